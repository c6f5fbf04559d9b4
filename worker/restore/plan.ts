// Step "plan": everything that can be checked before a database is touched (the backup and its bytes, the tools,
// the picked tables, the owner roles, the destination's name and space), collected as problems and the preflight
// report the wizard shows; the restore job refuses the first problem.
import { statfs } from 'node:fs/promises';
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobPayload } from '../../lib/jobs/kinds';
import { targetConn } from '../../lib/targets/target-conn';
import type { Storage } from '../../lib/storage/storage';
import { connect } from '../pg/connect';
import { readPreDataScript, readToc, type ArchiveInput, type Toc } from '../pg/pg-restore';
import { parseServerVersionNum, toolsFor, type ToolSet } from '../pg/tools';
import { checksumOf, isFolder, loadBackup, openStored, requireRecordedSum, storedInput, storedSize, type StoredBackup } from './archive';
import { connectionCount, databaseExists, fitName, stamp } from './database-ops';
import { describeProperties, propertiesOf, type DatabaseProperties } from './database-properties';
import { parsePreData, tableExtras, type TableExtras } from './owned-sequences';
import { parseGlobals, planRoles, type RolePlan, type SavedRole } from './roles';
import { stageArchive, type Staged, type StepContext } from './stage';

export type RestorePayload = JobPayload<'restore'>;
export type Target = NonNullable<Awaited<ReturnType<ReturnType<typeof getDb>['target']['findUnique']>>>;

export interface Problem {
  code: string;
  message: string;
  hint?: string;
}

export interface Plan {
  backup: StoredBackup;
  storage: Storage;
  dest: Target;
  source: Target | null;
  prod: string;
  workDb: string;
  mode: RestorePayload['destination']['mode'];
  method: 'swap' | 'in-place' | null;
  tools: ToolSet;
  toc: Toc;
  /** How pg_restore reads the archive before it is staged (a folder backup is staged by the plan already). */
  input: ArchiveInput;
  staged: Staged | null;
  /** The roles to create, with the attributes they will get (shown in the preflight as they will be run). */
  roles: RolePlan[];
  globals: Map<string, SavedRole>;
  /** The archive's tables the picks name, and what they need besides (partitions, owned sequences, statements). */
  picked: string[];
  extras: TableExtras;
  properties: DatabaseProperties | null;
  problems: Problem[];
  report: Record<string, unknown> & { file: Record<string, unknown> };
}

/** The side database of a swap or in-place restore: the preflight's name when it was passed on, else a new one. */
export function sideName(prod: string, asked: string | undefined, s = stamp()): string {
  const m = asked ? /_restore_\d{8}t\d{6}z$/.exec(asked) : null;
  // Only a name this function would make for production: a payload cannot aim the restore at another database.
  if (asked && m && asked === fitName(prod, m[0])) return asked;
  return fitName(prod, `_restore_${s}`);
}

/** The archive's tables that the picks name ("schema.table", or a bare name found in one schema). */
export function resolveTables(tocTables: string[], picks: string[]): { picked: string[]; unknown: string[] } {
  const picked: string[] = [];
  const unknown: string[] = [];
  for (const x of picks) {
    const hit = tocTables.includes(x) ? [x] : tocTables.filter((t) => t.endsWith(`.${x}`));
    if (hit.length) picked.push(...hit);
    else unknown.push(x);
  }
  return { picked: [...new Set(picked)], unknown };
}

/** The destination target: the chosen one for a new database, else the backup's own. */
export async function targetFor(p: RestorePayload): Promise<Target> {
  const db = getDb();
  if (p.destination.mode === 'new') {
    const t = await db.target.findUnique({ where: { id: p.destination.targetId } });
    if (!t) throw new UserError('NOT_FOUND', 'The destination target does not exist.');
    return t;
  }
  const b = await db.backupLog.findUnique({ where: { id: BigInt(p.backupId) }, select: { targetId: true } });
  const t = b?.targetId ? await db.target.findUnique({ where: { id: b.targetId } }) : null;
  if (!t) throw new UserError('NOT_FOUND', "The backup's target was deleted; restore it to a new database on another target.");
  return t;
}

/**
 * The maintenance connection to the destination's "postgres" database, where CREATE/DROP/RENAME DATABASE run without
 * being inside the target: opened on first use, closed when the job ends (after every cleanup that needs it).
 */
export function maintenanceConnection(ctx: StepContext, t: Target): () => Promise<pg.Client> {
  let client: Promise<pg.Client> | undefined;
  return () =>
    (client ??= connect(targetConn(t, 'postgres')).then((c) => {
      ctx.defer('close the maintenance connection', () => c.end(), { always: true });
      return c;
    }));
}

/** Throws BACKUP_CHECKSUM_MISMATCH unless the stored bytes are the ones the backup wrote. */
async function verifyStored(ctx: StepContext, storage: Storage, b: StoredBackup) {
  const sum = await checksumOf(storage, b, ctx.signal);
  requireRecordedSum(b, sum);
  await ctx.log(`file ${b.backupFile}: ${sum.size} bytes, SHA-256 matches the catalog`);
  return sum;
}

/**
 * Problems are collected, then the caller refuses the first. `checksum: 'now'` verifies the file before anything
 * else (preflight, and before an in-place restore drops production); 'later' leaves it to staging, which hashes
 * while it copies and refuses the archive before any database is created if the bytes differ.
 */
export async function planRestore(ctx: StepContext, p: RestorePayload, admin: () => Promise<pg.Client>, checksum: 'now' | 'later' = 'now'): Promise<Plan> {
  const db = getDb();
  const problems: Problem[] = [];

  // file: present, and (now or while staging) the same bytes the backup wrote; a folder is staged to be read at all.
  await ctx.step('checking the backup file');
  const { backup, storage } = await loadBackup(BigInt(p.backupId));
  let staged: Staged | null = null;
  let sum: { sha256: string; size: number };
  if (isFolder(backup)) {
    staged = await stageArchive(ctx, storage, backup);
    sum = staged;
    await ctx.log(`file ${backup.backupFile}: ${sum.size} bytes, SHA-256 matches the catalog`);
  } else {
    sum = checksum === 'now' ? await verifyStored(ctx, storage, backup) : { size: await storedSize(storage, backup), sha256: backup.checksumSha256 ?? '' };
  }
  const input: ArchiveInput = staged ? { file: staged.file } : storedInput(storage, backup, ctx.signal);

  // destination: the chosen target, or the backup's own for production and drills.
  const source = backup.targetId ? await db.target.findUnique({ where: { id: backup.targetId } }) : null;
  const dest = p.destination.mode === 'new' ? await db.target.findUnique({ where: { id: p.destination.targetId } }) : source;
  if (!dest) throw new UserError('NOT_FOUND', p.destination.mode === 'new' ? 'The destination target does not exist.' : 'The backup\'s target was deleted; restore it to a new database on another target.');
  const prod = backup.databaseName ?? dest.database ?? '';
  const mode = p.destination.mode;
  const method = p.destination.mode === 'replace' ? p.destination.method : null;
  // Swap and in-place both restore under a side name: production's name appears only when the copy is checked.
  const workDb = mode === 'new' ? p.destination.database : mode === 'drill' ? fitName(prod, `_drill_${stamp()}`) : sideName(prod, p.sideDatabase);

  // tools: a pg_restore at least as new as the archive's pg_dump and the destination server.
  await ctx.step('connecting to the destination');
  const c = await admin();
  const v = (await c.query<{ num: string; ver: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS ver")).rows[0]!;
  const probe = await toolsFor(parseServerVersionNum(v.num).major, v.ver);
  const toc = await readToc(input, probe.path('pg_restore'), ctx.signal).catch(async (err) => {
    if (checksum === 'later' && !staged) await verifyStored(ctx, storage, backup); // a damaged file says more than "unreadable"
    throw err;
  });
  const tools = toc.dumpedByMajor && toc.dumpedByMajor > probe.major ? await toolsFor(toc.dumpedByMajor, toc.dumpedBy ?? '') : probe;

  // tables: every pick is in the archive; a picked table brings its partitions and the sequences it owns.
  const { picked, unknown } = resolveTables(toc.tables, p.tables);
  if (unknown.length) problems.push({ code: 'TABLES_NOT_IN_ARCHIVE', message: `Not in the archive: ${unknown.join(', ')}. Its tables are: ${toc.tables.slice(0, 50).join(', ')}${toc.tables.length > 50 ? ', …' : ''}.` });
  const extras: TableExtras = picked.length ? tableExtras(parsePreData(await readPreDataScript(input, tools.path('pg_restore'), ctx.signal)), picked) : { partitions: [], sequences: [], statements: [] };

  // roles: every owner in the archive exists on the destination, or (an admin's restore) the saved globals create it.
  const existing = new Set((await c.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [toc.owners])).rows.map((r) => r.rolname));
  const missing = toc.owners.filter((o) => !existing.has(o));
  const globals = parseGlobals(backup.globalsFile ? await readGlobals(storage, backup, ctx.signal) : '');
  const roles = p.withoutOwners || !p.createRoles ? [] : planRoles(globals, missing, p.roleGrants);
  const uncreatable = missing.filter((r) => !globals.has(r));
  if (missing.length && !p.withoutOwners) {
    if (!p.createRoles) {
      problems.push({ code: 'ROLES_NEED_ADMIN', message: `The archive's objects are owned by role(s) missing on ${dest.name}: ${missing.join(', ')}. Only an admin's restore creates roles; ask an admin, or restore without owners (the restoring login then owns everything and no privileges are restored).` });
    } else if (uncreatable.length) {
      problems.push({ code: 'ROLES_MISSING', message: `The archive's objects are owned by role(s) missing on the destination and not in the saved globals: ${uncreatable.join(', ')}.` });
    }
  }

  // destination name: free for a new or side database; production's open connections for a replace.
  if (await databaseExists(c, workDb)) problems.push({ code: 'DESTINATION_EXISTS', message: `A database named "${workDb}" already exists on ${dest.name}.` });
  const prodConnections = mode === 'replace' && (await databaseExists(c, prod)) ? await connectionCount(c, prod) : null;

  // space: where it can be checked (the destination's data directory is on this worker's host and readable).
  const space = await freeSpace(c, dest, source, backup, sum.size);
  if (space && space.freeBytes < space.neededBytes) {
    problems.push({ code: 'DISK_FULL', message: `The destination's data directory has ${gib(space.freeBytes)} free; the restore needs about ${gib(space.neededBytes)} (${space.basis}).` });
  }
  const properties = propertiesOf(backup.manifest);
  const report = {
    file: { path: `${storage.describe()}/${backup.backupFile}`, size: sum.size, sha256: sum.sha256, matchesCatalog: checksum === 'now' || staged ? true : 'checked during the restore' },
    archive: { format: toc.format, dumpedBy: toc.dumpedBy, dumpedFrom: toc.dumpedFrom, entries: toc.entries.length, tables: toc.tables, partitions: toc.partitions, schemas: toc.schemas },
    tool: { pgRestore: tools.version, binDir: tools.binDir },
    destination: { target: dest.name, serverVersion: v.ver, database: workDb, production: mode === 'replace' ? prod : null, productionConnections: prodConnections },
    space,
    roles: { owners: toc.owners, missing, createdFromGlobals: roles.map((r) => r.name), toCreate: roles, withoutOwners: p.withoutOwners },
    tables: p.tables.length ? { picked, partitions: extras.partitions, sequences: extras.sequences, unknown } : null,
    databaseProperties: { recorded: !!properties, summary: describeProperties(properties), properties },
    problems,
  };
  await ctx.log(`preflight: ${problems.length ? problems.map((x) => x.message).join(' ') : 'all checks passed'}`);
  await ctx.log(`database properties: ${describeProperties(properties)}`);
  return { backup, storage, dest, source, prod, workDb, mode, method, tools, toc, input, staged, roles, globals, picked, extras, properties, problems, report };
}

/** The saved globals (pg_dumpall --globals-only) read through the storage; none when the object is gone. */
async function readGlobals(storage: Storage, b: StoredBackup, signal: AbortSignal): Promise<string> {
  const stream = await openStored(storage, b, signal, b.globalsFile!).catch(() => null);
  if (!stream) return '';
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Refuses the plan's first problem, as the preflight showed it. */
export function refuseProblems(plan: Plan): void {
  const first = plan.problems[0];
  if (first) throw new UserError(first.code as 'ROLES_MISSING', first.message);
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GiB`;

/**
 * Free space in the destination's data directory, when the server runs on this host and tells its data directory
 * (superuser or pg_read_all_settings); null otherwise. The need is the source database's size from its last
 * connection test, or else a multiple of the archive (compressed archives are several times smaller).
 */
async function freeSpace(c: pg.Client, dest: Target, source: Target | null, backup: StoredBackup, archiveBytes: number) {
  if (!['127.0.0.1', 'localhost', '::1'].includes(dest.host)) return null;
  const dir = await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d").then((r) => r.rows[0]!.d, () => null);
  if (!dir) return null;
  const st = await statfs(dir).catch(() => null);
  if (!st) return null;
  const sizes = ((source ?? dest).lastCheck as { sizes?: { database: string; bytes: number }[] } | null)?.sizes ?? [];
  const known = sizes.find((x) => x.database === backup.databaseName)?.bytes;
  const factor = backup.format === 'custom-zstd' ? 5 : 2;
  return {
    dataDirectory: dir,
    freeBytes: st.bavail * st.bsize,
    neededBytes: known ?? archiveBytes * factor,
    basis: known ? 'the source database\'s size at its last connection test' : `${factor}x the archive, an estimate`,
  };
}
