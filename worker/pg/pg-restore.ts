// pg_restore and psql for restores: argv builders (each flag explained from the manual) and progress parsing.

export interface RestoreSelection {
  /** Parallel restore processes; needs a seekable archive file (not a pipe). */
  jobs: number;
  schemas: string[];
  tables: string[];
  section: 'all' | 'schema' | 'data';
}

/** A libpq connection string naming only the database (host, port, user come from the environment). */
export function dbConninfo(database: string): string {
  return `dbname='${database.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export function pgRestoreArgs(archive: string, database: string, sel: RestoreSelection): string[] {
  return [
    // --dbname as a conninfo string, so a database name with '=' or spaces is never misread.
    `--dbname=${dbConninfo(database)}`,
    // --jobs: restore data and indexes in parallel (custom and directory formats from a file).
    `--jobs=${Math.max(1, sel.jobs)}`,
    // --verbose: one stderr line per item; the source of progress and the current object.
    '--verbose',
    // --exit-on-error: stop at the first error instead of restoring a half-database that looks fine.
    '--exit-on-error',
    '--no-password',
    ...sel.schemas.map((s) => `--schema=${s}`),
    ...sel.tables.map((t) => `--table=${t}`),
    ...(sel.section === 'schema' ? ['--schema-only'] : sel.section === 'data' ? ['--data-only'] : []),
    archive,
  ];
}

/** Counts the items pg_restore has handled (serial "processing item" and parallel "finished item" lines). */
export function parseRestoreLine(line: string): { done?: boolean; object?: string } {
  const data = /processing data for table "([^"]+)"/.exec(line);
  if (data) return { object: data[1] };
  const creating = /creating (\S+(?: \S+)?) "([^"]+)"/.exec(line);
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

/** Parses `pg_restore --list` output: entries, the archive's header facts (pg_dump version, format). */
export function parseToc(list: string) {
  const header = (key: string) => new RegExp(`^;\\s+${key}:\\s*(.+)$`, 'm').exec(list)?.[1]?.trim();
  const entries: TocEntry[] = [];
  for (const line of list.split('\n')) {
    if (!line.trim() || line.startsWith(';')) continue;
    // "3358; 0 17230 TABLE DATA core users postgres"
    const m = /^(\d+); \d+ \d+ (.+)$/.exec(line);
    if (!m) continue;
    const words = m[2]!.split(' ');
    const owner = words.pop() ?? '';
    const known = ['TABLE DATA', 'SEQUENCE SET', 'SEQUENCE OWNED BY', 'FK CONSTRAINT', 'MATERIALIZED VIEW', 'MATERIALIZED VIEW DATA', 'DEFAULT ACL'];
    const rest = words.join(' ');
    const desc = known.find((k) => rest.startsWith(`${k} `)) ?? words[0]!;
    const after = rest.slice(desc.length + 1).split(' ');
    entries.push({ id: Number(m[1]), desc, schema: after[0] ?? '', name: after.slice(1).join(' '), owner });
  }
  const dumpedBy = header('Dumped by pg_dump version');
  return {
    entries,
    format: header('Format'),
    dumpedFrom: header('Dumped from database version'),
    dumpedBy,
    dumpedByMajor: dumpedBy ? Number(/^(\d+)/.exec(dumpedBy)?.[1]) : undefined,
    tables: entries.filter((e) => e.desc === 'TABLE').map((e) => `${e.schema}.${e.name}`),
    schemas: [...new Set(entries.filter((e) => e.desc === 'SCHEMA').map((e) => e.name))],
    owners: [...new Set(entries.map((e) => e.owner).filter((o) => o && o !== '-'))],
  };
}
