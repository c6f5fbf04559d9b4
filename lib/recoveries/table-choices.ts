// The tables a row comparison can be asked for: a partitioned table is one choice (its partitions are compared with
// it), so the picker lists it once with its partition count and hides the partitions.

export interface PartitionLink {
  parent: string;
  child: string;
}

export interface TableChoice {
  table: string;
  /** Partitions holding rows (the leaves under it, at every level); 0 for a plain table. */
  partitions: number;
}

/** Every partition under `table` (partitions of partitions too), in the archive's order; empty for a plain table. */
export function partitionsUnder(partitions: PartitionLink[], table: string): string[] {
  const out: string[] = [];
  const walk = (parent: string) => {
    for (const p of partitions) {
      if (p.parent !== parent || out.includes(p.child)) continue;
      out.push(p.child);
      walk(p.child);
    }
  };
  walk(table);
  return out;
}

/** The archive's tables without partitions, each partitioned table with the number of its leaf partitions. */
export function tableChoices(tables: string[], partitions: PartitionLink[] = []): TableChoice[] {
  const children = new Set(partitions.map((p) => p.child));
  const parents = new Set(partitions.map((p) => p.parent));
  return tables
    .filter((t) => !children.has(t))
    .map((table) => ({ table, partitions: partitionsUnder(partitions, table).filter((c) => !parents.has(c)).length }));
}
