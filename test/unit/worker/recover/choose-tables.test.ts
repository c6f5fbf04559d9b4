// worker/recover/choose-tables.ts: the chosen tables resolved against an archive's table of contents: TABLE DATA
// entries by dump id, a partitioned table with all its partitions' data, and the refusals (missing table, no rows,
// a partition chosen beside its parent).
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../lib/errors';
import { chooseTables } from '../../../../worker/recover/choose-tables';

const entry = (id: number, desc: string, schema: string, name: string) => ({ id, desc, schema, name, owner: 'app' });
const toc = {
  entries: [
    entry(210, 'TABLE', 'public', 'users'),
    entry(211, 'TABLE', 'public', 'events'),
    entry(212, 'TABLE', 'public', 'events_2026'),
    entry(213, 'TABLE', 'public', 'events_2026_12'),
    entry(214, 'TABLE', 'public', 'empty'),
    entry(3301, 'TABLE DATA', 'public', 'users'),
    entry(3302, 'TABLE DATA', 'public', 'events_2026_12'),
    entry(3303, 'TABLE DATA', 'public', 'events'),
  ],
  partitions: [
    { parent: 'public.events', child: 'public.events_2026' },
    { parent: 'public.events_2026', child: 'public.events_2026_12' },
  ],
};

function refusal(labels: string[]): UserError {
  try {
    chooseTables(toc, labels);
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('no refusal');
}

describe('chooseTables', () => {
  it("names each table's TABLE DATA entries by dump id", () => {
    expect(chooseTables(toc, ['public.users'])).toEqual([{ label: 'public.users', tocSchema: 'public', tocName: 'users', partitions: [], entries: [3301] }]);
  });
  it('takes a partitioned table with every level of its partitions', () => {
    const [events] = chooseTables(toc, ['public.events']);
    expect(events!.partitions).toEqual(['public.events_2026', 'public.events_2026_12']);
    expect(events!.entries).toEqual([3302, 3303]);
  });
  it('refuses a table the archive does not have, or has without rows', () => {
    const missing = refusal(['public.nope']);
    expect(missing.code).toBe('VALIDATION');
    expect(missing.message).toBe('The backup has no table public.nope.');
    const empty = refusal(['public.empty']);
    expect(empty.code).toBe('VALIDATION');
    expect(empty.message).toBe('The backup holds no rows for public.empty (its data was left out).');
  });
  it('refuses a partition chosen beside its parent', () => {
    const both = refusal(['public.events', 'public.events_2026_12']);
    expect(both.code).toBe('VALIDATION');
    expect(both.message).toBe('public.events_2026_12 is a partition of public.events, which is compared with all its partitions.');
  });
});
