// lib/jobs/sweep-jobs.ts's discardPartials on real folders: a dead job's incomplete objects go back to the storage
// that reported them (its discardIncomplete), whatever else is on the list (a passfile folder) is removed by path.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discardPartials } from '../../../../lib/jobs/sweep-jobs';
import { LocalFolderStorage } from '../../../../lib/storage/local-folder';
import type { Storage } from '../../../../lib/storage/storage';

const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-sweep-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A real local storage whose discardIncomplete calls are written down (the ones it accepted). */
function recorded(dir: string): { storage: Storage; discarded: string[] } {
  mkdirSync(dir, { recursive: true });
  const real = new LocalFolderStorage(dir);
  const discarded: string[] = [];
  const storage = Object.assign(Object.create(real) as Storage, {
    discardIncomplete: async (handle: string) => {
      await real.discardIncomplete(handle);
      discarded.push(handle);
    },
  });
  return { storage, discarded };
}

describe('discardPartials', () => {
  it('hands each incomplete object to the storage that holds it, and removes the rest by path', async () => {
    const a = recorded(path.join(root, 'a'));
    const b = recorded(path.join(root, 'b'));
    const inB = path.join(root, 'b', 'shop', 'shop.dump.zst.1f2e.partial');
    mkdirSync(path.dirname(inB));
    writeFileSync(inB, 'half a backup');
    const passDir = path.join(root, 'lifeboat-pass-x');
    mkdirSync(passDir);
    writeFileSync(path.join(passDir, 'pgpass'), '*:*:*:postgres:secret\n');

    await discardPartials([inB, passDir], [a.storage, b.storage]);

    expect(b.discarded).toEqual([inB]);
    expect(a.discarded).toEqual([]);
    expect(existsSync(inB)).toBe(false);
    expect(existsSync(passDir)).toBe(false);
  });

  it('never throws for a path that is already gone', async () => {
    const a = recorded(path.join(root, 'c'));
    await expect(discardPartials([path.join(root, 'c', 'gone.partial'), path.join(root, 'nothing-here')], [a.storage])).resolves.toBeUndefined();
  });
});
