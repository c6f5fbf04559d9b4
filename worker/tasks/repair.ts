// Guided repair (the runbook's scenario 1) of one database. A check (the default) runs amcheck on every btree index
// and reports; nothing is rebuilt. A repair, chosen after a check that found damage (or forced by an admin), also runs
// REINDEX DATABASE and VACUUM (FULL, ANALYZE) through psql with live output, and amcheck again says whether the
// database is healthy now or a restore is the way out. Every lock wait is bounded by lock_timeout, so a repair stuck
// behind another session fails with REPAIR_LOCK_TIMEOUT instead of hanging. The psql argv builder and its output
// parser live here too.
import { execa } from 'execa';
import pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { ToolError } from '../../lib/jobs/lifecycle';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import { clientConfig, connect, toolEnv, type TargetConn } from '../pg/connect';
import { parseServerVersionNum, toolsFor } from '../pg/tools';

type RepairPayload = JobPayload<'repair'>;

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const tail = (s: string, n = 8000) => (s.length > n ? s.slice(-n) : s);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface IndexProblem {
  index: string;
  table: string;
  /** SQLSTATE of the error amcheck raised (XX001 data corrupted, XX002 index corrupted, ...). */
  code: string | null;
  error: string;
}

export interface AmcheckReport {
  function: string;
  checked: number;
  corrupt: IndexProblem[];
  /** Indexes that could not be checked (a lock or privilege problem, not damage). */
  unchecked: IndexProblem[];
}

export interface StepOutcome {
  ok: boolean;
  /** Objects the server reported as done: indexes for REINDEX, tables for VACUUM. */
  done: number;
  error: string | null;
}

interface Amcheck {
  schema: string;
  fn: 'bt_index_parent_check' | 'bt_index_check';
  installedByUs: boolean;
}

// ---------------------------------------------------------------- psql adapter

/** psql argv for one maintenance statement (host, port, user, database and the passfile come from the environment). */
export function psqlArgs(sql: string): string[] {
  return [
    // -X: skip ~/.psqlrc, so nobody's personal settings change what runs.
    '-X',
    // -w: never prompt for a password; it comes from the 0600 passfile, and a missing one fails at once.
    '-w',
    // ON_ERROR_STOP: a failed statement makes psql exit non-zero instead of carrying on.
    '-v',
    'ON_ERROR_STOP=1',
    // -c: the statement runs on its own, outside a transaction block (REINDEX DATABASE and VACUUM refuse to run in one).
    '-c',
    sql,
  ];
}

export type MaintenanceLine =
  | { kind: 'index-reindexed'; object: string }
  | { kind: 'table-reindexed'; object: string }
  | { kind: 'vacuuming'; object: string }
  | { kind: 'analyzing'; object: string }
  | { kind: 'message'; level: 'info' | 'warn' | 'error' }
  | { kind: 'noise' };

/** One stderr line of `REINDEX (VERBOSE)` or `VACUUM (VERBOSE)` through psql: progress events, or a line to log. */
export function parseMaintenanceLine(line: string): MaintenanceLine {
  const t = line.trim();
  if (!t) return { kind: 'noise' };
  // Per-object timings ("DETAIL:  CPU: user: ...", "CPU: user: ...") add nothing a person reads.
  if (/^(DETAIL:\s+)?CPU: user:/.test(t)) return { kind: 'noise' };
  let m = /^INFO:\s+index "(.+)" was reindexed$/.exec(t);
  if (m) return { kind: 'index-reindexed', object: m[1]! };
  m = /^INFO:\s+table "(.+)" was reindexed$/.exec(t);
  if (m) return { kind: 'table-reindexed', object: m[1]! };
  m = /^INFO:\s+vacuuming "(.+)"$/.exec(t);
  if (m) return { kind: 'vacuuming', object: m[1]! };
  m = /^INFO:\s+analyzing "(.+)"$/.exec(t);
  if (m) return { kind: 'analyzing', object: m[1]! };
  if (/^(ERROR|FATAL|PANIC):/.test(t) || /^psql: error:/.test(t)) return { kind: 'message', level: 'error' };
  if (/^WARNING:/.test(t)) return { kind: 'message', level: 'warn' };
  return { kind: 'message', level: 'info' };
}

/**
 * Runs one statement through psql, sending stderr lines to the job log and each parsed line to `onLine`.
 * A statement the server refused (corruption, a lock, a cancel) is an outcome; psql that cannot run or connect is thrown.
 */
async function runPsql(
  ctx: JobContext<RepairPayload>,
  psql: string,
  env: Record<string, string>,
  sql: string,
  onLine: (l: MaintenanceLine) => void,
): Promise<{ ok: boolean; error: string | null; lockTimeout: boolean }> {
  let rest = '';
  let pending: { line: string; level: 'info' | 'warn' | 'error' }[] = [];
  let lastLevel: 'info' | 'warn' | 'error' = 'info';
  const errors: string[] = [];
  const handle = (line: string) => {
    const parsed = parseMaintenanceLine(line);
    if (parsed.kind === 'noise') return;
    onLine(parsed);
    // DETAIL, HINT and CONTEXT belong to the message above them.
    const level = parsed.kind === 'message' ? (/^(DETAIL|HINT|CONTEXT):/.test(line.trim()) ? lastLevel : parsed.level) : 'info';
    lastLevel = level;
    if (level === 'error' && /^(ERROR|FATAL|PANIC):/.test(line.trim())) errors.push(line.trim().replace(/^(ERROR|FATAL|PANIC):\s+/, ''));
    if (pending.length < 20_000) pending.push({ line: line.trimEnd(), level });
  };
  const child = execa(psql, psqlArgs(sql), {
    // Maintenance must not be cut short by a statement_timeout tuned for the application (the job's expiry bounds it),
    // but it must not queue behind another session's lock for hours either: lock_timeout ends each wait.
    env: { ...process.env, ...env, PGOPTIONS: `-c statement_timeout=0 -c lock_timeout=${ctx.payload.lockTimeoutSeconds}s` },
    extendEnv: false,
    cancelSignal: ctx.signal,
    // SIGINT makes psql send a cancel request, so the server stops the REINDEX or VACUUM too, not only psql.
    killSignal: 'SIGINT',
    forceKillAfterDelay: 10_000,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    buffer: { stderr: true },
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(handle);
  });
  // One flush at a time, so the log keeps psql's order even when the console's database is slow.
  let flushing: Promise<void> = Promise.resolve();
  const flush = () =>
    (flushing = flushing.then(async () => {
      const lines = pending;
      pending = [];
      for (const l of lines) await ctx.log(l.line, l.level);
    }).catch(() => {})); // a log line lost to a database blink must not stop the ones after it
  const tick = setInterval(() => void flush().catch(() => {}), 1000);
  try {
    const r = await child;
    if (rest) handle(rest);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (r.exitCode === 0) return { ok: true, error: null, lockTimeout: false };
    // Exit 1 with a server ERROR: the statement ran and was refused. Anything else (no connection, no psql) is fatal.
    if (r.exitCode === 1 && errors.length) return { ok: false, error: errors[0]!, lockTimeout: /lock timeout/i.test(errors[0]!) };
    const stderr = String(r.stderr ?? '');
    const last = stderr.trim().split('\n').filter(Boolean).pop() ?? (r as { shortMessage?: string }).shortMessage ?? '';
    throw new ToolError('REPAIR_FAILED', `psql failed (exit ${r.exitCode ?? r.signal ?? 'none'}): ${last.replace(/^psql: error: /, '')}`, tail(stderr));
  } finally {
    clearInterval(tick);
    await flush().catch(() => {});
  }
}

// ---------------------------------------------------------------- amcheck

// Every valid btree index of the user's schemas (system catalogs and TOAST are rebuilt by REINDEX but not checked).
const INDEX_SQL = `
  SELECT c.oid::text AS oid, format('%I.%I', n.nspname, c.relname) AS index, format('%I.%I', tn.nspname, t.relname) AS table
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_am am ON am.oid = c.relam
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace tn ON tn.oid = t.relnamespace
  WHERE am.amname = 'btree' AND c.relkind = 'i' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  ORDER BY 2`;

/** Installs amcheck where the user may; null (said in the log) when it is missing, uninstallable or not executable. */
async function prepareAmcheck(ctx: JobContext<RepairPayload>, c: pg.Client, prefer: Amcheck['fn']): Promise<Amcheck | null> {
  const schemaOf = async () => (await c.query<{ nspname: string }>("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'")).rows[0]?.nspname;
  let schema = await schemaOf();
  let installedByUs = false;
  if (!schema) {
    try {
      await c.query('CREATE EXTENSION IF NOT EXISTS amcheck');
      installedByUs = true;
      schema = await schemaOf();
      await ctx.log(`amcheck: extension installed for this repair (it is removed again at the end)`);
    } catch (err) {
      await ctx.log(
        `amcheck: not installed and cannot be installed here (${message(err)}); the index checks are skipped. Install it as a superuser (CREATE EXTENSION amcheck, from the postgresql-contrib package) to check indexes.`,
        'warn',
      );
      return null;
    }
  }
  if (!schema) return null;
  // bt_index_parent_check also verifies parent/child links, but takes a ShareLock (writes wait) and needs EXECUTE
  // granted; a check alone prefers bt_index_check, whose AccessShareLock lets the application go on writing.
  const fns = (
    await c.query<{ fn: 'bt_index_parent_check' | 'bt_index_check'; can: boolean }>(
      `SELECT p.fn, has_function_privilege(p.oid, 'EXECUTE') AS can
       FROM (VALUES (1, 'bt_index_parent_check', to_regprocedure(format('%I.bt_index_parent_check(regclass, boolean)', $1::text))),
                    (2, 'bt_index_check', to_regprocedure(format('%I.bt_index_check(regclass, boolean)', $1::text)))) AS p(rank, fn, oid)
       WHERE p.oid IS NOT NULL ORDER BY p.fn = $2 DESC, p.rank`,
      [schema, prefer],
    )
  ).rows;
  const usable = fns.find((f) => f.can);
  if (!usable) {
    await ctx.log(
      fns.length
        ? `amcheck: installed in schema ${schema}, but user may not execute bt_index_check; the index checks are skipped (GRANT EXECUTE ON FUNCTION ${schema}.bt_index_check(regclass, boolean) to the target's user).`
        : `amcheck: the installed version lacks bt_index_check(regclass, boolean) (amcheck 1.1, PostgreSQL 11+); the index checks are skipped.`,
      'warn',
    );
    if (installedByUs) await dropAmcheck(ctx, c);
    return null;
  }
  return { schema, fn: usable.fn, installedByUs };
}

async function dropAmcheck(ctx: JobContext<RepairPayload>, c: pg.Client): Promise<void> {
  // Left behind, the extension would be in every later backup and make restores depend on postgresql-contrib.
  await c
    .query('DROP EXTENSION IF EXISTS amcheck')
    .then(() => ctx.log('amcheck: extension removed again'))
    .catch((err) => ctx.log(`amcheck: could not remove the extension (${message(err)}); drop it by hand if it is not wanted`, 'warn'));
}

/** Checks every btree index; progress runs from `from` to `to` percent. */
async function checkIndexes(ctx: JobContext<RepairPayload>, c: pg.Client, am: Amcheck, label: string, from: number, to: number): Promise<AmcheckReport> {
  const indexes = (await c.query<{ oid: string; index: string; table: string }>(INDEX_SQL)).rows;
  const fn = `${quoteIdent(am.schema)}.${am.fn}`;
  const report: AmcheckReport = { function: am.fn, checked: 0, corrupt: [], unchecked: [] };
  await ctx.log(`amcheck ${label}: ${am.fn} (with heapallindexed) on ${indexes.length} btree index(es) of the user's schemas`);
  for (const [i, ix] of indexes.entries()) {
    ctx.signal.throwIfAborted();
    await ctx.progress(from + ((to - from) * i) / Math.max(1, indexes.length), `${i} of ${indexes.length} indexes · ${ix.index}`);
    try {
      // heapallindexed: every heap tuple must have its index entry, which catches indexes that silently lost rows.
      await c.query(`SELECT ${fn}($1::oid::regclass, true)`, [ix.oid]);
      report.checked++;
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const e = err as { code?: string; message?: string };
      // Without a server SQLSTATE (or with a connection class one) the connection is gone, not the index.
      if (!e.code || !/^[0-9A-Z]{5}$/.test(e.code) || e.code.startsWith('08') || e.code.startsWith('57P')) {
        throw new UserError('REPAIR_FAILED', `The connection to "${ctx.payload.database}" was lost while checking ${ix.index}: ${e.message ?? String(err)}`);
      }
      const problem = { index: ix.index, table: ix.table, code: e.code ?? null, error: e.message ?? String(err) };
      // A lock we could not get or a missing privilege says nothing about the index itself.
      if (e.code === '55P03' || e.code === '42501' || e.code === '57014') {
        report.unchecked.push(problem);
        await ctx.log(`amcheck: could not check ${ix.index} (${problem.error})`, 'warn');
      } else {
        report.checked++;
        report.corrupt.push(problem);
        await ctx.log(`amcheck: CORRUPT index ${ix.index} on ${ix.table}: ${problem.error}${e.code ? ` [${e.code}]` : ''}`, 'error');
      }
    }
  }
  const names = report.corrupt.map((x) => x.index).join(', ');
  await ctx.log(
    `amcheck ${label}: ${report.checked} index(es) checked, ${report.corrupt.length ? `${report.corrupt.length} corrupt: ${names}` : 'none corrupt'}${report.unchecked.length ? `, ${report.unchecked.length} could not be checked` : ''}`,
    report.corrupt.length ? 'error' : 'info',
  );
  return report;
}

/** On cancel, a second connection cancels the statement the task's own connection is running; `stop` waits for it. */
function cancelOnAbort(signal: AbortSignal, conn: TargetConn, pid: number): () => Promise<void> {
  let inflight: Promise<void> = Promise.resolve();
  const onAbort = () => {
    const killer = new pg.Client(clientConfig(conn));
    inflight = killer
      .connect()
      .then(() => killer.query('SELECT pg_cancel_backend($1)', [pid]))
      .then(() => {})
      .catch(() => {})
      .finally(() => killer.end().catch(() => {}));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return async () => {
    signal.removeEventListener('abort', onAbort);
    // Landed before the clean-up statements run, so a late cancel never hits them (an idle backend ignores it).
    await inflight;
  };
}

// ---------------------------------------------------------------- the task

export async function repair(ctx: JobContext<RepairPayload>) {
  const started = Date.now();
  const { targetId, database, mode, lockTimeoutSeconds } = ctx.payload;
  const target = await getDb().target.findUnique({ where: { id: targetId } });
  if (!target) throw new UserError('NOT_FOUND', 'The target was deleted.');
  // The admin confirmed this database by name; a target changed since then is not repaired on a guess.
  if (target.database && target.database !== database) {
    throw new UserError('VALIDATION', `Target "${target.name}" now names the database "${target.database}", but the repair was confirmed for "${database}".`, 'Start the repair again from the target page; nothing was changed.');
  }
  const conn = targetConn(target, database);
  const restoreWizard = `/restore?targetId=${target.id}`;

  // connect: to the database itself, since REINDEX DATABASE works only on the current one.
  await ctx.step('connecting');
  const c = await connect(conn);
  let pass: Awaited<ReturnType<typeof toolEnv>> | undefined;
  let amcheck: Amcheck | null = null;
  let stopCancel = async () => {};
  try {
    await c.query(`SET statement_timeout = 0; SET lock_timeout = '${lockTimeoutSeconds}s'`);
    const info = (
      await c.query<{ num: string; ver: string; pid: number; standby: boolean; su: boolean; owner: boolean; tables: string; indexes: string }>(
        `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver, pg_backend_pid() AS pid,
                pg_is_in_recovery() AS standby, r.rolsuper AS su, pg_has_role(d.datdba, 'USAGE') AS owner,
                (SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'm') AND relpersistence <> 't') AS tables,
                (SELECT count(*) FROM pg_class WHERE relkind = 'i' AND relpersistence <> 't') AS indexes
         FROM pg_database d, pg_roles r WHERE d.datname = current_database() AND r.rolname = current_user`,
      )
    ).rows[0]!;
    stopCancel = cancelOnAbort(ctx.signal, conn, info.pid);
    if (info.standby) {
      throw new UserError('REPAIR_FAILED', `"${database}" on ${target.name} is a standby (in recovery); REINDEX and VACUUM run only on the primary.`, 'Point the target at the primary and repair there; standbys follow through replication.');
    }

    if (mode === 'check') {
      // check: amcheck on every btree index of the user's schemas; nothing is rebuilt or rewritten.
      await ctx.log(`checking "${database}" on ${target.name} (PostgreSQL ${info.ver}) as ${conn.user}: amcheck only, nothing is rebuilt`);
      await ctx.step('checking indexes (amcheck)');
      amcheck = await prepareAmcheck(ctx, c, 'bt_index_check');
      const before = amcheck ? await checkIndexes(ctx, c, amcheck, 'check', 0, 100) : null;
      const found = before ? before.corrupt.length > 0 : null;
      const healthy = !before ? null : found ? false : before.unchecked.length ? null : true;
      await ctx.log(
        !before
          ? 'amcheck is not available here, so nothing could be checked; nothing was rebuilt'
          : found
            ? `corruption found: ${before.corrupt.length} corrupt index(es) (${before.corrupt.map((x) => x.index).join(', ')}); nothing was rebuilt. The next step is a repair (REINDEX, VACUUM FULL ANALYZE), which locks tables.`
            : before.unchecked.length
              ? `no corruption found among the ${before.checked} index(es) checked, but ${before.unchecked.length} could not be checked (see above); nothing was rebuilt`
              : `no corruption found: amcheck checked ${before.checked} index(es); nothing was rebuilt`,
        found ? 'error' : healthy === null ? 'warn' : 'info',
      );
      return {
        mode,
        target: target.name,
        database,
        serverVersion: info.ver,
        amcheck: amcheck?.fn ?? null,
        before,
        reindex: null,
        vacuum: null,
        after: null,
        healthy,
        corruptionFound: found,
        checkStillFails: false,
        corruptIndexes: before?.corrupt.map((x) => x.index) ?? [],
        restoreWizard: null,
        durationMs: Date.now() - started,
      };
    }

    if (!info.su && !info.owner) {
      throw new UserError('REPAIR_FAILED', `User "${conn.user}" neither owns "${database}" nor is a superuser, so PostgreSQL would refuse REINDEX DATABASE.`, "Repair with a target whose user owns the database (or is a superuser); nothing was changed.");
    }
    const tools = await toolsFor(parseServerVersionNum(info.num).major, info.ver);
    pass = await toolEnv(conn);
    if (pass.dir) await ctx.trackPartial(pass.dir);
    await ctx.log(
      `repairing "${database}" on ${target.name} (PostgreSQL ${info.ver}) as ${conn.user}; psql ${tools.version}; ` +
        (ctx.payload.force ? 'forced by an admin without a check that found damage' : `after check ${ctx.payload.checkJobId} found damage`) +
        `; each lock is waited for at most ${lockTimeoutSeconds} s`,
      ctx.payload.force ? 'warn' : 'info',
    );

    // check: amcheck on every btree index of the user's schemas, before anything is rebuilt.
    await ctx.step('checking indexes (amcheck)');
    amcheck = await prepareAmcheck(ctx, c, 'bt_index_parent_check');
    const before = amcheck ? await checkIndexes(ctx, c, amcheck, 'before the repair', 0, 20) : null;

    // reindex: every index of the database rebuilt from its table (ShareLock on each table, so writes wait).
    await ctx.step(`REINDEX DATABASE ${quoteIdent(database)}`);
    const indexTotal = Math.max(1, Number(info.indexes));
    const reindex: StepOutcome = { ok: false, done: 0, error: null };
    let current = '';
    const reindexed = await runPsql(ctx, tools.path('psql'), pass.env, `REINDEX (VERBOSE) DATABASE ${quoteIdent(database)}`, (l) => {
      if (l.kind === 'index-reindexed') reindex.done++;
      if (l.kind === 'table-reindexed') current = l.object;
      if (l.kind === 'index-reindexed' || l.kind === 'table-reindexed') {
        void ctx.progress(20 + Math.min(1, reindex.done / indexTotal) * 30, `${reindex.done} of about ${indexTotal} indexes${current ? ` · ${current}` : ''}`).catch(() => {});
      }
    });
    if (reindexed.lockTimeout) {
      throw new UserError(
        'REPAIR_LOCK_TIMEOUT',
        `REINDEX waited more than ${lockTimeoutSeconds} s for a table lock in "${database}" (another session holds one) and stopped after ${reindex.done} index(es); VACUUM FULL did not run.`,
        `The ${reindex.done} index(es) rebuilt so far stay rebuilt. Find the session holding the lock in pg_stat_activity and pg_locks, let it finish or end it, then repair again.`,
      );
    }
    reindex.ok = reindexed.ok;
    reindex.error = reindexed.error;
    await ctx.log(reindex.ok ? `REINDEX done: ${reindex.done} index(es) rebuilt` : `REINDEX failed after ${reindex.done} index(es): ${reindex.error}`, reindex.ok ? 'info' : 'error');

    // vacuum: every table rewritten and analyzed (ACCESS EXCLUSIVE on each table while it is rewritten).
    await ctx.step('VACUUM (FULL, ANALYZE)');
    const tableTotal = Math.max(1, Number(info.tables));
    const vacuum: StepOutcome = { ok: false, done: 0, error: null };
    const vacuumed = await runPsql(ctx, tools.path('psql'), pass.env, 'VACUUM (FULL, ANALYZE, VERBOSE)', (l) => {
      if (l.kind !== 'vacuuming') return;
      vacuum.done++;
      void ctx.progress(50 + Math.min(1, vacuum.done / tableTotal) * 30, `${vacuum.done} of about ${tableTotal} tables · ${l.object}`).catch(() => {});
    });
    if (vacuumed.lockTimeout) {
      throw new UserError(
        'REPAIR_LOCK_TIMEOUT',
        `VACUUM FULL waited more than ${lockTimeoutSeconds} s for a table lock in "${database}" (another session holds one) and stopped at table ${vacuum.done} of about ${tableTotal}.`,
        `REINDEX had ${reindex.ok ? 'finished' : 'failed'}; the tables rewritten so far stay rewritten. Find the session holding the lock in pg_stat_activity and pg_locks, let it finish or end it, then repair again.`,
      );
    }
    vacuum.ok = vacuumed.ok;
    vacuum.error = vacuumed.error;
    await ctx.log(vacuum.ok ? `VACUUM done: ${vacuum.done} table(s) rewritten and analyzed` : `VACUUM failed at table ${vacuum.done} of about ${tableTotal}: ${vacuum.error}`, vacuum.ok ? 'info' : 'error');

    // check again: did the rebuild cure what amcheck found?
    await ctx.step('checking indexes again (amcheck)');
    const after = amcheck ? await checkIndexes(ctx, c, amcheck, 'after the repair', 80, 100) : null;

    const checkStillFails = !!after && after.corrupt.length > 0;
    const healthy = checkStillFails || !reindex.ok || !vacuum.ok ? false : after ? true : null;
    await ctx.log(
      healthy === true
        ? 'healthy: amcheck finds no corrupt index after the repair'
        : healthy === null
          ? 'repair finished; amcheck was not available, so the indexes could not be checked'
          : `still damaged: ${checkStillFails ? `amcheck still fails on ${after!.corrupt.map((x) => x.index).join(', ')}` : 'a repair step failed'}. Restore the last good backup with the restore wizard.`,
      healthy === false ? 'error' : 'info',
    );
    return {
      mode,
      target: target.name,
      database,
      serverVersion: info.ver,
      amcheck: amcheck?.fn ?? null,
      before,
      reindex,
      vacuum,
      after,
      healthy,
      corruptionFound: before ? before.corrupt.length > 0 : null,
      checkStillFails,
      corruptIndexes: after?.corrupt.map((x) => x.index) ?? [],
      restoreWizard: healthy === false ? restoreWizard : null,
      durationMs: Date.now() - started,
    };
  } finally {
    await stopCancel();
    if (amcheck?.installedByUs) await dropAmcheck(ctx, c);
    await c.end().catch(() => {});
    if (pass) {
      await pass.cleanup();
      if (pass.dir) await ctx.untrackPartial(pass.dir).catch(() => {});
    }
  }
}
