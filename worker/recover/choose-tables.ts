// Recovering deleted rows: the chosen tables as the archive holds them, each with the TABLE DATA entries to restore
// (a partitioned table is one table: its rows are those of all its partitions, compared by its own key).
import { UserError } from '../../lib/errors';
import { partitionsUnder } from '../../lib/recoveries/table-choices';
import type { TocEntry, TocPartition } from '../pg/pg-restore';

export interface ChosenTable {
  /** "schema.table" as the archive lists it. */
  label: string;
  tocSchema: string;
  tocName: string;
  partitions: string[];
  /** Dump ids of the TABLE DATA entries to restore. */
  entries: number[];
}

/** The chosen labels resolved against the archive's table of contents; refuses a missing, empty or doubly chosen table. */
export function chooseTables(toc: { entries: TocEntry[]; partitions: TocPartition[] }, labels: string[]): ChosenTable[] {
  const chosen = labels.map((label) => {
    const e = toc.entries.find((x) => x.desc === 'TABLE' && `${x.schema}.${x.name}` === label);
    if (!e) throw new UserError('VALIDATION', `The backup has no table ${label}.`, 'Pick tables from the list the backup offers.');
    const partitions = partitionsUnder(toc.partitions, label);
    const members = new Set([label, ...partitions]);
    const data = toc.entries.filter((x) => x.desc === 'TABLE DATA' && members.has(`${x.schema}.${x.name}`));
    if (data.length === 0) {
      throw new UserError('VALIDATION', `The backup holds no rows for ${label} (${partitions.length ? 'none of its partitions has data in the archive' : 'its data was left out'}).`, 'Pick another table.');
    }
    return { label, tocSchema: e.schema, tocName: e.name, partitions, entries: data.map((x) => x.id) };
  });
  for (const a of chosen) {
    const inside = chosen.find((b) => a.partitions.includes(b.label));
    if (inside) {
      throw new UserError('VALIDATION', `${inside.label} is a partition of ${a.label}, which is compared with all its partitions.`, `Pick ${a.label} or ${inside.label}, not both.`);
    }
  }
  return chosen;
}
