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

/** Parses `pg_restore --list` output: entries, the archive's header facts (pg_dump version, format). */
export function parseToc(list: string) {
  const header = (key: string) => new RegExp(`^;\\s+${key}:\\s*(.+)$`, 'm').exec(list)?.[1]?.trim();
  const entries: TocEntry[] = [];
  // Longest kinds first, so "MATERIALIZED VIEW DATA" is not read as "MATERIALIZED VIEW" of schema "DATA".
  const known = ['MATERIALIZED VIEW DATA', 'SEQUENCE OWNED BY', 'MATERIALIZED VIEW', 'FK CONSTRAINT', 'SEQUENCE SET', 'TABLE DATA', 'DEFAULT ACL'];
  const lines: { id: number; words: string[]; owner: string }[] = [];
  for (const line of list.split('\n')) {
    if (!line.trim() || line.startsWith(';')) continue;
    // "3358; 0 17230 TABLE DATA core users postgres"
    const m = /^(\d+); \d+ \d+ (.+)$/.exec(line);
    if (!m) continue;
    const words = m[2]!.split(' ');
    const owner = words.pop() ?? '';
    lines.push({ id: Number(m[1]), words, owner });
  }
  const kindOf = (rest: string) => known.find((k) => rest.startsWith(`${k} `)) ?? rest.split(' ')[0]!;
  // Schema names come from the SCHEMA entries, so a schema with a space in its name is still one name.
  const schemaNames = lines.filter((l) => kindOf(l.words.join(' ')) === 'SCHEMA').map((l) => l.words.slice(2).join(' '));
  const bySchemaLength = [...new Set([...schemaNames, 'public'])].sort((a, b) => b.length - a.length);
  for (const l of lines) {
    const rest = l.words.join(' ');
    const desc = kindOf(rest);
    const after = rest.slice(desc.length + 1);
    const schema = desc === 'SCHEMA' ? '-' : (bySchemaLength.find((sc) => after.startsWith(`${sc} `)) ?? after.split(' ')[0] ?? '');
    const name = desc === 'SCHEMA' ? after.replace(/^- /, '') : after.slice(schema.length + 1);
    entries.push({ id: l.id, desc, schema, name, owner: l.owner });
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
