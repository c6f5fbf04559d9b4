// Integrity checks side by side: what the backup recorded, what the restored copy has; red where they differ.
export interface CheckRow { name: string; expected: string | number | null; actual: string | number | null; ok: boolean }

export function CheckTable({ checks }: { checks: CheckRow[] }) {
  if (!checks.length) return <p className="text-sm text-amber-800">No checks are configured for this target (key tables or check statements), so nothing proves the copy is right.</p>;
  return (
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
  );
}
