// Integrity checks side by side: what the backup recorded, what the restored copy has; red where they differ.
import type { z } from 'zod';
import type { restoreCheck } from '@/lib/jobs/kinds';

/** One check of a restored copy, as the restore's result schema describes it. */
export type CheckRow = z.infer<typeof restoreCheck>;

/** `notRun`: the target's checks that did not apply to this restore, each with its reason. */
export function CheckTable({ checks, notRun = [] }: { checks: CheckRow[]; notRun?: string[] }) {
  const skipped = notRun.length > 0 && (
    <div className="mt-2 text-sm text-amber-800" data-testid="checks-not-run">
      <p>{checks.length ? 'Not run on this restore:' : 'No checks ran on this restore:'}</p>
      <ul className="ml-5 list-disc">{notRun.map((n) => <li key={n}>{n}</li>)}</ul>
    </div>
  );
  if (!checks.length) {
    return skipped || <p className="text-sm text-amber-800" data-testid="checks-not-run">No checks ran: none are configured for this target (key tables or check statements), so nothing proves the copy is right.</p>;
  }
  return (
    <>
      <table className="w-full text-sm" data-testid="check-table">
        <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
          <tr><th className="pb-2">Check</th><th className="pb-2">Expected (from the backup)</th><th className="pb-2">Restored copy</th><th className="pb-2">Result</th></tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {checks.map((c) => (
            <tr key={c.name} className={c.ok ? '' : 'bg-red-50 text-red-900'} data-ok={c.ok}>
              <td className="py-1.5 font-mono text-xs">{c.name}</td>
              <td className="py-1.5">{String(c.expected ?? '—')}</td>
              <td className="py-1.5 break-all">{String(c.actual ?? '—')}</td>
              <td className="py-1.5 font-semibold">{c.ok ? 'ok' : 'FAILED'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {skipped}
    </>
  );
}

/** The one-line verdict above the table: green only when checks ran and all passed. */
export function checkVerdict(checks: CheckRow[], notRun: string[] = []): { tone: 'green' | 'red' | 'amber'; text: string } {
  if (!checks.length) return { tone: 'amber', text: notRun.length ? 'No checks ran on this restore (see why below): nothing proves the copy is right.' : 'No checks ran: none are configured for this target.' };
  const failed = checks.filter((c) => !c.ok).length;
  if (failed) return { tone: 'red', text: `${failed} check(s) FAILED: the restored copy does not match what the backup recorded.` };
  return { tone: 'green', text: `All ${checks.length} checks passed.${notRun.length ? ` ${notRun.length} did not apply (see below).` : ''}` };
}
