// The objects one database's backup puts into storage: each put is on the job's cleanup stack from before its
// first byte (a failed or cancelled job leaves nothing behind, whatever step it stopped in) until keep().
import type { Readable } from 'node:stream';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { Storage, StoredObject } from '../../lib/storage/storage';

export interface StoredSet {
  storage: Storage;
  put(name: string, source: Readable | Buffer | string): Promise<StoredObject>;
  /** The backup is recorded: its objects stay. */
  keep(): void;
}

export function storedSet(ctx: JobContext<unknown>, storage: Storage): StoredSet {
  const drops: (() => void)[] = [];
  return {
    storage,
    put(name, source) {
      drops.push(ctx.defer(`remove ${name} from ${storage.describe()}`, () => storage.remove(name)));
      return storage.put(name, source, { signal: ctx.signal, incomplete: ctx.incomplete });
    },
    keep() {
      for (const drop of drops.splice(0)) drop();
    },
  };
}
