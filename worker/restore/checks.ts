// Step "check the copy": the row counts (and content checksums) the backup recorded for the key tables, and the
// target's own check statements, run in the restored database; what did not apply is said, with why.
import { fingerprintSql } from '../../lib/backups/table-fingerprint';
import { targetConn } from '../../lib/targets/target-conn';
import { connect } from '../pg/connect';
import { quoteIdent } from '../pg/sql';
import type { Plan, RestorePayload } from './plan';
import type { StepContext } from './stage';

export interface Check {
  name: string;
  expected: string | number | null;
  actual: string | number | null;
  ok: boolean;
}

export async function runChecks(ctx: StepContext, plan: Plan, p: RestorePayload): Promise<{ checks: Check[]; notRun: string[] }> {
  const checks: Check[] = [];
  // Checks that exist for this target but did not apply to this restore, and why: never "none configured" for them.
  const notRun: string[] = [];
  const client = await connect(targetConn(plan.dest, plan.workDb));
  try {
    const restoredTables = new Set(plan.picked.length ? [...plan.picked, ...plan.extras.partitions] : plan.toc.tables);
    const counts = (plan.backup.keyTableCounts ?? {}) as Record<string, number>;
    const sums = ((plan.backup.manifest as { keyTableChecksums?: Record<string, string> } | null)?.keyTableChecksums ?? {}) as Record<string, string>;
    for (const [table, expected] of Object.entries(counts)) {
      if (p.section === 'schema') {
        notRun.push(`row count ${table}: only the schema was restored`);
        continue;
      }
      if (!restoredTables.has(table)) {
        notRun.push(`row count ${table}: ${plan.toc.tables.includes(table) ? 'not among the restored tables' : 'not in the archive'}`);
        continue;
      }
      try {
        const fp = (await client.query<{ n: string; h: string }>(fingerprintSql(table.split('.').map(quoteIdent).join('.')))).rows[0]!;
        const n = Number(fp.n);
        checks.push({ name: `row count ${table}`, expected, actual: n, ok: n === expected });
        // Content, where the backup recorded it: the same rows, not only as many.
        if (sums[table] !== undefined) checks.push({ name: `content checksum ${table}`, expected: sums[table]!, actual: fp.h, ok: fp.h === sums[table] });
      } catch (err) {
        checks.push({ name: `row count ${table}`, expected, actual: `error: ${(err as Error).message}`, ok: false });
      }
    }
    if (!Object.keys(counts).length && (plan.source ?? plan.dest).keyTables.length) notRun.push('row counts: this backup recorded none for the key tables');
    // The target's own statements describe its data: the source target's, wherever the copy went.
    const statements = (plan.source ?? plan.dest).checkStatements;
    if (p.section === 'all' && !p.tables.length && !p.schemas.length) {
      for (const sql of statements) {
        try {
          const r = await client.query(sql);
          checks.push({ name: sql, expected: 'runs without error', actual: `${r.rowCount ?? 0} row(s)${r.rows[0] ? `: ${JSON.stringify(r.rows[0]).slice(0, 200)}` : ''}`, ok: true });
        } catch (err) {
          checks.push({ name: sql, expected: 'runs without error', actual: `error: ${(err as Error).message}`, ok: false });
        }
      }
    } else {
      for (const sql of statements) notRun.push(`${sql}: not run on a partial restore (${p.section !== 'all' ? `${p.section} only` : 'some tables or schemas'})`);
    }
  } finally {
    await client.end().catch(() => {});
  }
  if (!checks.length) {
    if (notRun.length) await ctx.log(`no checks ran: ${notRun.join('; ')}`, 'warn');
    else await ctx.log('no checks configured for this target (key tables or check statements)', 'warn');
  }
  return { checks, notRun };
}
