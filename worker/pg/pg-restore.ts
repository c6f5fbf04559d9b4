// pg_restore: the one place its options are built (each flag explained from the manual), its output parsed (table of
// contents, progress lines, pre-data script), and it is run, from a staged file or a stored archive's stream.
import type { Readable } from 'node:stream';
import { ToolError } from '../../lib/jobs/tool-error';
import { lastErrorLine, pipeTools, requireSuccess, runTool, tail, type ToolResult } from './run-tool';
import { zstdDecompressTool } from './zstd';

export interface RestoreSelection {
  /** Parallel restore processes; needs a seekable archive file (not a pipe). */
  jobs: number;
  schemas: string[];
  tables: string[];
  section: 'all' | 'schema' | 'data';
  /** --no-owner --no-privileges: the restoring login owns everything and no GRANT names a role this server lacks. */
  withoutOwners?: boolean;
}

/** A libpq connection string naming only the database (host, port, user come from the environment). */
export function dbConninfo(database: string): string {
  return `dbname='${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * The flags every pg_restore into a database starts with (a restore, the recover flow's scratch copy): where to
 * restore, how loudly, and when to stop. The callers add what to restore and the archive.
 */
export function restoreIntoArgs(database: string, opts: { jobs?: number; withoutOwners?: boolean } = {}): string[] {
  return [
    // --dbname as a conninfo string, so a database name with '=' or spaces is never misread.
    `--dbname=${dbConninfo(database)}`,
    // --jobs: restore data and indexes in parallel (custom and directory formats from a file).
    ...(opts.jobs === undefined ? [] : [`--jobs=${Math.max(1, opts.jobs)}`]),
    // --verbose: one stderr line per item; the source of progress, the current object and the job log.
    '--verbose',
    // --exit-on-error: stop at the first error instead of restoring a half-database that looks fine (a half-restored
    // scratch table would be compared as if rows were missing).
    '--exit-on-error',
    '--no-password',
    // --no-owner, --no-privileges: the restoring login owns everything and no GRANT names a role this server lacks.
    ...(opts.withoutOwners ? ['--no-owner', '--no-privileges'] : []),
  ];
}

export function pgRestoreArgs(archive: string, database: string, sel: RestoreSelection): string[] {
  return [
    ...restoreIntoArgs(database, { jobs: sel.jobs, withoutOwners: sel.withoutOwners }),
    ...sel.schemas.map((s) => `--schema=${s}`),
    // pg_restore's --table takes a bare name, qualified by --schema (the schemas are created beforehand);
    // it restores the tables' definitions and data, not their indexes and constraints.
    ...[...new Set(sel.tables.map((t) => splitTable(t).schema))].filter((s) => !sel.schemas.includes(s)).map((s) => `--schema=${s}`),
    ...sel.tables.map((t) => `--table=${splitTable(t).name}`),
    ...(sel.section === 'schema' ? ['--schema-only'] : sel.section === 'data' ? ['--data-only'] : []),
    archive,
  ];
}

/** "schema.table" (first dot splits; a bare name is in public). */
export function splitTable(t: string): { schema: string; name: string } {
  const i = t.indexOf('.');
  return i < 0 ? { schema: 'public', name: t } : { schema: t.slice(0, i), name: t.slice(i + 1) };
}

/** Counts the items pg_restore has handled (serial "processing item" and parallel "finished item" lines). */
export function parseRestoreLine(line: string): { done?: boolean; object?: string } {
  const data = /processing data for table "([^"]+)"/.exec(line);
  if (data) return { object: data[1] };
  const creating = /creating (.+?) "([^"]+)"/.exec(line);
  if (creating) return { object: `${creating[1]} ${creating[2]}` };
  // A parallel run prints "processing item" once for the serial part and "finished item" for parallel items.
  if (/^pg_restore: (?:processing|finished) item \d+/.test(line)) return { done: true };
  return {};
}

export interface TocEntry {
  id: number;
  desc: string;
  schema: string;
  name: string;
  owner: string;
}

/** A partition and the partitioned table it is attached to ("schema.name" each), from a TABLE ATTACH entry. */
export interface TocPartition {
  parent: string;
  child: string;
}

/** pg_class (1259): the one catalog whose entries are tables, views, sequences and indexes. */
const PG_CLASS = 1259;
/** pg_attrdef (2604): a column DEFAULT, not a DEFAULT ACL of a schema named "ACL". */
const PG_ATTRDEF = 2604;
// Kinds of pg_class entries, and the multi-word kinds of every other entry (pg_dump's desc strings), longest first so
// "MATERIALIZED VIEW DATA" is not read as "MATERIALIZED VIEW" of schema "DATA". Which list applies is decided by the
// entry's catalog, so a table in a schema named "DATA" or "ATTACH" is still a TABLE.
const CLASS_KINDS = ['MATERIALIZED VIEW', 'FOREIGN TABLE', 'SEQUENCE', 'TABLE', 'VIEW', 'INDEX'];
const MULTI_WORD_KINDS = [
  'PUBLICATION TABLES IN SCHEMA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'MATERIALIZED VIEW DATA',
  'FOREIGN DATA WRAPPER',
  'TEXT SEARCH TEMPLATE',
  'PROCEDURAL LANGUAGE',
  'DATABASE PROPERTIES',
  'TEXT SEARCH PARSER',
  'SUBSCRIPTION TABLE',
  'SEQUENCE OWNED BY',
  'PUBLICATION TABLE',
  'MATERIALIZED VIEW',
  'CHECK CONSTRAINT',
  'OPERATOR FAMILY',
  'STATISTICS DATA',
  'OPERATOR CLASS',
  'SECURITY LABEL',
  'BLOB METADATA',
  'ACCESS METHOD',
  'EVENT TRIGGER',
  'FK CONSTRAINT',
  'FOREIGN TABLE',
  'LARGE OBJECTS',
  'LARGE OBJECT',
  'INDEX ATTACH',
  'ROW SECURITY',
  'SEQUENCE SET',
  'TABLE ATTACH',
  'USER MAPPING',
  'DEFAULT ACL',
  'SHELL TYPE',
  'TABLE DATA',
];

/**
 * Parses `pg_restore --list` output: entries, the archive's header facts (pg_dump version, format), the real tables
 * and the partitions' parents. `verboseList` is `pg_restore --list --verbose` of the same archive: only its
 * "; depends on:" lines are read (a TABLE ATTACH entry depends on the partition and its parent), so `entries` stay
 * exactly what a plain listing (and a restore) holds.
 */
export function parseToc(list: string, verboseList?: string) {
  const header = (key: string) => new RegExp(`^;\\s+${key}:\\s*(.+)$`, 'm').exec(list)?.[1]?.trim();
  const entries: TocEntry[] = [];
  const lines: { id: number; catalog: number; rest: string; owner: string }[] = [];
  for (const line of list.split('\n')) {
    if (!line.trim() || line.startsWith(';')) continue;
    // "3358; 0 17230 TABLE DATA core users postgres": dump id; catalog (tableoid) and oid of the object; desc,
    // schema, name (newlines printed as spaces, nothing quoted) and owner.
    const m = /^(\d+); (\d+) \d+ (.+)$/.exec(line);
    if (!m) continue;
    const words = m[3]!.split(' ');
    const owner = words.pop() ?? '';
    lines.push({ id: Number(m[1]), catalog: Number(m[2]), rest: words.join(' '), owner });
  }
  const kindOf = (l: { catalog: number; rest: string }) =>
    (l.catalog === PG_CLASS ? CLASS_KINDS : l.catalog === PG_ATTRDEF ? ['DEFAULT'] : MULTI_WORD_KINDS).find((k) => l.rest.startsWith(`${k} `)) ??
    l.rest.split(' ')[0]!;
  // Schema names come from the SCHEMA entries, so a schema with a space in its name is still one name.
  const schemaNames = lines.filter((l) => kindOf(l) === 'SCHEMA').map((l) => l.rest.split(' ').slice(2).join(' '));
  const bySchemaLength = [...new Set([...schemaNames, 'public'])].sort((a, b) => b.length - a.length);
  for (const l of lines) {
    const desc = kindOf(l);
    const after = l.rest.slice(desc.length + 1);
    const schema = desc === 'SCHEMA' ? '-' : (bySchemaLength.find((sc) => after.startsWith(`${sc} `)) ?? after.split(' ')[0] ?? '');
    const name = desc === 'SCHEMA' ? after.replace(/^- /, '') : after.slice(schema.length + 1);
    entries.push({ id: l.id, desc, schema, name, owner: l.owner });
  }
  const label = (e: TocEntry) => `${e.schema}.${e.name}`;
  const byId = new Map(entries.map((e) => [e.id, e]));
  const deps = parseDependencies(verboseList ?? list);
  const partitions: TocPartition[] = [];
  for (const e of entries) {
    if (e.desc !== 'TABLE ATTACH') continue;
    const tables = (deps.get(e.id) ?? []).map((id) => byId.get(id)).filter((t): t is TocEntry => t?.desc === 'TABLE');
    const child = tables.find((t) => t.schema === e.schema && t.name === e.name);
    const parent = tables.find((t) => t !== child);
    if (child && parent) partitions.push({ parent: label(parent), child: label(child) });
  }
  const dumpedBy = header('Dumped by pg_dump version');
  return {
    entries,
    format: header('Format'),
    dumpedFrom: header('Dumped from database version'),
    dumpedBy,
    dumpedByMajor: dumpedBy ? Number(/^(\d+)/.exec(dumpedBy)?.[1]) : undefined,
    /** Tables (ordinary, partitioned, partitions), as "schema.name"; not views, foreign tables, data or ATTACH entries. */
    tables: entries.filter((e) => e.desc === 'TABLE').map(label),
    /** Each partition with its parent; a partition of a partition names the intermediate parent. */
    partitions,
    schemas: [...new Set(entries.filter((e) => e.desc === 'SCHEMA').map((e) => e.name))],
    owners: [...new Set(entries.map((e) => e.owner).filter((o) => o && o !== '-'))],
  };
}

export type Toc = ReturnType<typeof parseToc>;

/** The "; depends on: 219 218" lines of a verbose listing, by the entry they follow. */
function parseDependencies(list: string): Map<number, number[]> {
  const deps = new Map<number, number[]>();
  let last: number | undefined;
  for (const line of list.split('\n')) {
    const entry = /^(\d+); /.exec(line);
    if (entry) last = Number(entry[1]);
    const d = /^;\s*depends on:([\d ]*)$/.exec(line);
    if (d && last !== undefined) deps.set(last, d[1]!.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return deps;
}

/**
 * Where pg_restore reads an archive from: a file or folder staged in the job's scratch folder, or a stored
 * single-file archive as a stream (a local storage's stream has an fd, which the kernel hands to the program).
 */
export type ArchiveInput = { file: string } | { open: () => Promise<Readable>; zstd: boolean };

export interface PgRestoreRun {
  signal: AbortSignal;
  env?: Record<string, string>;
  onLine?: (line: string) => void;
  stdout?: 'ignore' | 'buffer';
  maxBuffer?: number;
  /** pg_restore may stop reading early (a listing reads only the table of contents): zstd's broken pipe is expected. */
  readsPart?: boolean;
}

/**
 * pg_restore <args> reading `input`: the file as its last argument, or the stream on stdin (through `zstd -dc` for a
 * .zst, both exit statuses checked). Resolves with pg_restore's result; a zstd failure throws BACKUP_UNREADABLE.
 */
export async function pgRestoreFrom(exe: string, args: string[], input: ArchiveInput, run: PgRestoreRun): Promise<ToolResult> {
  const spec = { exe, signal: run.signal, env: run.env, onLine: run.onLine, stdout: run.stdout ?? 'buffer', maxBuffer: run.maxBuffer } as const;
  if ('file' in input) return runTool({ ...spec, args: [...args, input.file] });
  const source = await input.open();
  if (!input.zstd) return runTool({ ...spec, args, stdin: source });
  const { producer, consumer } = pipeTools({ ...zstdDecompressTool(null, { signal: run.signal }), stdin: source }, { ...spec, args });
  const [z, r] = await Promise.all([producer, consumer]);
  if (z.exitCode === 0) return r;
  // zstd's own failure (a damaged frame) is the better story; a broken pipe only means pg_restore stopped reading:
  // expected of a listing, and otherwise pg_restore's own failure says why.
  const brokenPipe = z.signal === 'SIGPIPE' || /broken pipe/i.test(z.stderrTail);
  if (!brokenPipe || (r.exitCode === 0 && !run.readsPart)) {
    const why = lastErrorLine(z.stderrTail, 'zstd');
    throw new ToolError('BACKUP_UNREADABLE', `zstd cannot decode it (${z.exitCode !== null ? `exit ${z.exitCode}` : `killed by ${z.signal}`}${why ? `: ${why}` : ''}): the archive is cut short or damaged.`, tail(z.stderrTail));
  }
  return r;
}

/**
 * pg_restore --list of the archive, and --list --verbose for the entries' dependencies (which name each
 * partition's parent). Both read the table of contents only. The one reader of a table of contents: restores,
 * row recovery, uploads and the backup's own check use it.
 */
export async function readToc(input: ArchiveInput, pgRestore: string, signal: AbortSignal): Promise<Toc> {
  const list = async (args: string[]) => {
    const r = await pgRestoreFrom(pgRestore, args, input, { signal, readsPart: true });
    if (r.exitCode !== 0 || !r.stdout.includes('; Archive created at')) {
      throw new ToolError('BACKUP_UNREADABLE', 'pg_restore cannot read the archive: it is damaged or not a pg_dump archive.', tail(r.stderrTail));
    }
    return r.stdout;
  };
  const plain = await list(['--list']);
  return parseToc(plain, await list(['--list', '--verbose']));
}

/** The archive's pre-data script (definitions, no data), as pg_restore would run it; parsed by owned-sequences.ts. */
export async function readPreDataScript(input: ArchiveInput, pgRestore: string, signal: AbortSignal): Promise<string> {
  // --section=pre-data: definitions only; --file=-: the script to stdout instead of a database.
  const r = await pgRestoreFrom(pgRestore, ['--section=pre-data', '--file=-'], input, { signal, readsPart: true, maxBuffer: 512 * 1024 * 1024 });
  if (r.exitCode !== 0) throw new ToolError('BACKUP_UNREADABLE', 'pg_restore could not read the definitions in the archive.', tail(r.stderrTail));
  return r.stdout;
}

/**
 * Reads every data block of the archive (pg_restore to /dev/null): its table of contents is at the start, so a file
 * cut short still lists, and only decoding it to the end proves it can be restored.
 */
export async function decodeArchive(input: ArchiveInput, pgRestore: string, signal: AbortSignal): Promise<void> {
  const r = await pgRestoreFrom(pgRestore, ['--file=/dev/null'], input, { signal, stdout: 'ignore' });
  if (r.exitCode !== 0) {
    const last = r.stderrTail.trim().split('\n').pop()?.replace(/^pg_restore: error: /, '');
    throw new ToolError('BACKUP_UNREADABLE', `The archive cannot be read to its end${last ? ` (${last})` : ''}: it is cut short or damaged.`, tail(r.stderrTail));
  }
}

/** pg_restore into `database`, with progress from its --verbose lines; RESTORE_FAILED with its last error line. */
export async function restoreInto(
  pgRestore: string,
  archive: string,
  database: string,
  sel: RestoreSelection,
  run: { signal: AbortSignal; env: Record<string, string>; onLine: (line: string) => void },
): Promise<void> {
  const r = await runTool({ exe: pgRestore, args: pgRestoreArgs(archive, database, sel), env: run.env, signal: run.signal, stdout: 'ignore', onLine: run.onLine });
  requireSuccess(r, 'pg_restore', 'RESTORE_FAILED');
}
