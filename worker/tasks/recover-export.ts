// Recovering deleted rows, export: the rows a comparison found missing, read from its scratch copy and stored as one
// SQL file (all tables, parents first, one transaction) or one CSV file (one table) in the backup's storage.
import { Readable } from 'node:stream';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { quoteIdent } from '../pg/sql';
import { commentText, csvField, insertColumns, qualified, safeFileName, sqlLiteral } from '../recover/compare-rows';
import { exportName, exportStorage } from '../recover/exports';
import { missingRows, openComparison, planTables, type OpenComparison } from '../recover/open-comparison';

type Ctx = JobContext<JobPayload<'recover-export'>>;
type Planned = Awaited<ReturnType<typeof planTables>>['tables'];

export async function recoverExport(ctx: Ctx) {
  const p = ctx.payload;
  // plan: the comparison still usable; a CSV file holds one table.
  await ctx.step('checking the comparison and its scratch copy');
  const o = await openComparison(ctx);
  if (p.format === 'csv' && !p.table && o.result.tables.length > 1) {
    throw new UserError('VALIDATION', 'A CSV file holds one table; name the table to export.', 'Pick one table, or export SQL for all of them.');
  }
  const { tables } = await planTables(o, p.table ?? (p.format === 'csv' ? o.result.tables[0]!.table : undefined));
  const total = tables.reduce((n, x) => n + x.t.missing.keys.length, 0);

  // write: stored under the comparison's folder, below its target's prefix in the backup's storage; the object appears only when complete.
  await ctx.step(`writing ${total} row(s) as ${p.format.toUpperCase()}`);
  const storage = await exportStorage(o.backupId);
  const file = exportName(o.result.target, p.compareJobId, ctx.jobId, p.format);
  const counted = { rows: 0 };
  const stored = await storage.put(file, Readable.from(asBytes(exportText(ctx, o, tables, total, counted))), { signal: ctx.signal, incomplete: ctx.incomplete });
  const label = tables.length === 1 ? `-${tables[0]!.t.table}` : '';
  return {
    format: p.format,
    file,
    fileName: safeFileName(`${o.result.database}-missing-rows${label}.${p.format}`),
    size: stored.size,
    sha256: stored.sha256,
    rows: counted.rows,
    tables: tables.map((x) => x.t.table),
  };
}

/** UTF-8 bytes, so the storage counts and hashes bytes, not characters. */
async function* asBytes(text: AsyncGenerator<string>): AsyncGenerator<Buffer> {
  for await (const s of text) yield Buffer.from(s, 'utf8');
}

/** The file's text, a batch of rows at a time (the storage pulls it, so memory holds one batch). */
async function* exportText(ctx: Ctx, o: OpenComparison, tables: Planned, total: number, counted: { rows: number }): AsyncGenerator<string> {
  const p = ctx.payload;
  if (p.format === 'sql') {
    // Names reach the comments only through commentText: a line break in one would end its comment.
    yield `-- ${commentText(`Rows missing from production "${o.result.database}" on ${o.result.target}, as backup #${o.result.backupId} (${o.result.backupTakenAt}) has them.`)}\n` +
      `-- Found by comparison ${p.compareJobId}; written by Lifeboat ${new Date().toISOString()}.\n` +
      `-- One transaction, parents before children. Sequences are not moved; check them after loading.\n` +
      // The file is UTF-8 whatever the loading client's default; psql then reads quotes and backslashes as written.
      `SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\nBEGIN;\n`;
  }
  for (const { t, shape } of tables) {
    const cols = insertColumns(shape);
    if (p.format === 'sql') yield `\n-- ${commentText(`${t.table}: ${t.missing.keys.length} row(s)`)}\n`;
    else yield `${cols.map((c) => csvField(c.name)).join(',')}\n`;
    const head = `INSERT INTO ${qualified(shape.schema, shape.name)} (${cols.map((c) => quoteIdent(c.name)).join(', ')}) OVERRIDING SYSTEM VALUE VALUES (`;
    for await (const batch of missingRows(o.scratch, shape, t.missing.keys, ctx.signal)) {
      const lines = batch.map((r) => {
        const values = JSON.parse(r) as (string | null)[];
        return p.format === 'sql' ? `${head}${values.map(sqlLiteral).join(', ')});\n` : `${values.map(csvField).join(',')}\n`;
      });
      if (lines.length) yield lines.join('');
      counted.rows += batch.length;
      await ctx.progress((counted.rows / Math.max(1, total)) * 95, `${counted.rows} of ${total} rows`);
    }
  }
  if (p.format === 'sql') yield '\nCOMMIT;\n';
}
