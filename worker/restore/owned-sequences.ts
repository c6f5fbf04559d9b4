// What pg_restore --table leaves out of a picked table: the sequences it owns (serial and identity columns), its
// column defaults that use them, and for a partitioned table its partitions. Read from the archive's pre-data script
// (pg-restore.ts readPreDataScript).

export interface PreDataEntry {
  /** The TOC tag: "users_id_seq", "users id" (a default: table and column), "orders_p1" (a partition). */
  tag: string;
  type: string;
  schema: string;
  sql: string;
}

/** Splits `pg_restore --section=pre-data -f -` output on pg_dump's "-- Name: ...; Type: ...; Schema: ..." headers. */
export function parsePreData(script: string): PreDataEntry[] {
  const out: PreDataEntry[] = [];
  const header = /^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: .*$/gm;
  const heads = [...script.matchAll(header)];
  heads.forEach((h, i) => {
    const end = i + 1 < heads.length ? heads[i + 1]!.index! : script.length;
    // The entry's SQL follows the header's closing "--" line; the next header's opening "--" is cut off.
    // psql meta-commands (pg_dump 15.14+ ends scripts with "\unrestrict <key>") and comments are not SQL to run.
    const body = script
      .slice(h.index! + h[0].length, end)
      .split('\n')
      .filter((l) => !l.startsWith('\\') && !l.startsWith('--'))
      .join('\n')
      .trim();
    out.push({ tag: h[1]!, type: h[2]!, schema: h[3]!, sql: body });
  });
  return out;
}

/** Reads one possibly quoted, possibly qualified name at `s[i]`; returns its parts and where it ended. */
export function readQualifiedName(s: string, i = 0): { parts: string[]; end: number } {
  const parts: string[] = [];
  for (;;) {
    if (s[i] === '"') {
      let j = i + 1;
      let v = '';
      while (j < s.length) {
        if (s[j] === '"' && s[j + 1] === '"') (v += '"'), (j += 2);
        else if (s[j] === '"') break;
        else v += s[j++];
      }
      parts.push(v);
      i = j + 1;
    } else {
      const m = /^[^\s."(),;]+/.exec(s.slice(i));
      if (!m) break;
      parts.push(m[0]);
      i += m[0].length;
    }
    if (s[i] !== '.') break;
    i++;
  }
  return { parts, end: i };
}

const key = (schema: string, name: string) => `${schema}.${name}`;

function nameAfter(sql: string, prefix: RegExp): string[] | null {
  const m = prefix.exec(sql);
  if (!m) return null;
  return readQualifiedName(sql, m.index + m[0].length).parts;
}

export interface TableExtras {
  /** Tables to add to the pick: partitions of picked partitioned tables, as "schema.name". */
  partitions: string[];
  /** Sequences the picked tables own, as "schema.name", restored with them (definition and last value). */
  sequences: string[];
  /** Run after pg_restore: OWNED BY, the column defaults, and partitions' ATTACH, in the archive's order. */
  statements: string[];
}

/**
 * For tables picked as "schema.name": their partitions (recursively), the sequences they own, and the statements that
 * tie them together again. Only statements about the picked tables are returned, in the archive's own words.
 */
export function tableExtras(entries: PreDataEntry[], picked: string[]): TableExtras {
  const tables = new Set(picked);
  const attach = entries.filter((e) => e.type === 'TABLE ATTACH').map((e) => {
    const parent = nameAfter(e.sql, /^ALTER TABLE (?:ONLY )?/);
    const child = nameAfter(e.sql, / ATTACH PARTITION /);
    return { e, parent: parent && parent.length === 2 ? key(parent[0]!, parent[1]!) : null, child: child && child.length === 2 ? key(child[0]!, child[1]!) : null };
  });
  // partitions: children of a picked table, and their children.
  const partitions: string[] = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const a of attach) if (a.parent && a.child && tables.has(a.parent) && !tables.has(a.child)) (tables.add(a.child), partitions.push(a.child), (grew = true));
  }
  const sequences: string[] = [];
  const statements: string[] = [];
  for (const e of entries) {
    if (e.type === 'SEQUENCE OWNED BY') {
      const seq = nameAfter(e.sql, /^ALTER SEQUENCE /);
      const owner = nameAfter(e.sql, / OWNED BY /);
      if (seq?.length === 2 && owner?.length === 3 && tables.has(key(owner[0]!, owner[1]!))) {
        sequences.push(key(seq[0]!, seq[1]!));
        statements.push(e.sql);
      }
    } else if (e.type === 'SEQUENCE' && /^ALTER TABLE /.test(e.sql)) {
      // An identity column's sequence: its entry is the ALTER TABLE ... ADD GENERATED ... (SEQUENCE NAME ...).
      const table = nameAfter(e.sql, /^ALTER TABLE (?:ONLY )?/);
      const seq = nameAfter(e.sql, /SEQUENCE NAME /);
      if (table?.length === 2 && seq?.length === 2 && tables.has(key(table[0]!, table[1]!))) sequences.push(key(seq[0]!, seq[1]!));
    } else if (e.type === 'DEFAULT') {
      const table = nameAfter(e.sql, /^ALTER TABLE (?:ONLY )?/);
      if (table?.length === 2 && tables.has(key(table[0]!, table[1]!))) statements.push(e.sql);
    }
  }
  for (const a of attach) if (a.child && partitions.includes(a.child)) statements.push(a.e.sql);
  return { partitions, sequences: [...new Set(sequences)], statements };
}
