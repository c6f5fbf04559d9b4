// lib/storage/local-folder.ts and storage-for.ts on a real folder: an object appears only whole, with its size and
// SHA-256; the same name with the same bytes is accepted and with other bytes refused (STORAGE_OBJECT_EXISTS,
// the first object untouched); a failed or aborted put leaves nothing and tells its incomplete tracker; get, stat,
// list and remove; names that could leave the folder are refused; the one resolver picks the right folder.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFolderStorage, diskError } from '../../../../lib/storage/local-folder';
import { defaultStoragePath, storageFor } from '../../../../lib/storage/storage-for';

const root = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-local-folder-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let n = 0;
const fresh = () => {
  const dir = path.join(root, `s${n++}`);
  mkdirSync(dir);
  return new LocalFolderStorage(dir);
};
/** Every file under a folder, relative, partials included. */
const allFiles = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
/** A stream that yields `good` bytes, then fails. */
const failingAfter = (good: Buffer) =>
  new Readable({
    read() {
      if (this.readableLength === 0 && !(this as unknown as { sent?: boolean }).sent) {
        (this as unknown as { sent?: boolean }).sent = true;
        this.push(good);
      } else setTimeout(() => this.destroy(new Error('the producer died')), 20);
    },
  });
const tracker = () => {
  const events: string[] = [];
  const seen: { handle: string; existedWhenAdded: boolean }[] = [];
  return {
    events,
    seen,
    incomplete: {
      add: async (h: string) => {
        events.push(`add ${h}`);
        seen.push({ handle: h, existedWhenAdded: existsSync(h) });
      },
      remove: async (h: string) => void events.push(`remove ${h}`),
    },
  };
};

describe('LocalFolderStorage.put', () => {
  it('stores a stream whole, returns its size and SHA-256, and leaves no partial file', async () => {
    const s = fresh();
    const data = randomBytes(3 << 20);
    const t = tracker();
    const stored = await s.put('t1/db/a.dump', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { incomplete: t.incomplete });
    expect(stored).toEqual({ name: 't1/db/a.dump', size: data.length, sha256: sha(data) });
    expect(readFileSync(path.join(s.root, 't1/db/a.dump')).equals(data)).toBe(true);
    expect(allFiles(s.root)).toEqual(['t1/db/a.dump']);
    // The tracker heard of the partial before it existed, and that it is gone.
    expect(t.seen).toHaveLength(1);
    expect(t.seen[0]!.existedWhenAdded).toBe(false);
    expect(t.seen[0]!.handle).toMatch(/a\.dump\.[0-9a-f]{12}\.partial$/);
    expect(t.events).toEqual([`add ${t.seen[0]!.handle}`, `remove ${t.seen[0]!.handle}`]);
  });

  it('takes a Buffer or a string', async () => {
    const s = fresh();
    expect(await s.put('m.json', '{"a":1}')).toEqual({ name: 'm.json', size: 7, sha256: sha(Buffer.from('{"a":1}')) });
    expect((await s.put('b.bin', Buffer.from([1, 2, 3]))).size).toBe(3);
    expect(readFileSync(path.join(s.root, 'm.json'), 'utf8')).toBe('{"a":1}');
  });

  it('the same name with the same bytes succeeds; with other bytes is refused and the first object stays', async () => {
    const s = fresh();
    const first = await s.put('x/globals.sql', 'CREATE ROLE a;\n');
    expect(await s.put('x/globals.sql', Readable.from([Buffer.from('CREATE ROLE a;\n')]))).toEqual(first);
    const err = await s.put('x/globals.sql', 'CREATE ROLE b;\n').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_OBJECT_EXISTS' });
    expect((err as Error).message).toContain('x/globals.sql');
    expect(readFileSync(path.join(s.root, 'x/globals.sql'), 'utf8')).toBe('CREATE ROLE a;\n');
    expect(allFiles(s.root)).toEqual(['x/globals.sql']);
  });

  it('two puts of one name at once with the same bytes both succeed (each writes its own partial)', async () => {
    const s = fresh();
    const data = randomBytes(1 << 20);
    const [a, b] = await Promise.all([s.put('same', Readable.from([data])), s.put('same', Readable.from([data]))]);
    expect(a).toEqual(b);
    expect(allFiles(s.root)).toEqual(['same']);
  });

  it('a source that fails leaves nothing that looks complete, and the tracker is told', async () => {
    const s = fresh();
    const t = tracker();
    await expect(s.put('db/broken.dump', failingAfter(randomBytes(100_000)), { incomplete: t.incomplete })).rejects.toThrow('the producer died');
    expect(await s.stat('db/broken.dump')).toBeNull();
    expect(await s.list('')).toEqual([]);
    expect(allFiles(s.root)).toEqual([]);
    expect(t.events).toEqual([`add ${t.seen[0]!.handle}`, `remove ${t.seen[0]!.handle}`]);
  });

  it('an abort stops the put with the reason and leaves nothing', async () => {
    const s = fresh();
    const ac = new AbortController();
    const endless = new Readable({ read() { setTimeout(() => this.push(Buffer.alloc(65536)), 1); } });
    const reason = new Error('cancelled');
    setTimeout(() => ac.abort(reason), 100);
    await expect(s.put('big', endless, { signal: ac.signal })).rejects.toBe(reason);
    expect(allFiles(s.root)).toEqual([]);
  });

  it('refuses names that could leave the folder or be taken for a partial file', async () => {
    const s = fresh();
    for (const bad of ['../escape', '/abs', 'a//b', 'a/./b', '', 'x.partial', 'd.partial/f', 'a/'])
      await expect(s.put(bad, 'x'), bad).rejects.toThrow(/not a valid object name/);
    expect(readdirSync(path.dirname(s.root)).includes('escape')).toBe(false);
  });
});

describe('LocalFolderStorage get, stat, list, remove, discardIncomplete, check', () => {
  it('get streams an object from an already open fd; an absent name or a folder is STORAGE_OBJECT_MISSING', async () => {
    const s = fresh();
    await s.put('a/b.txt', 'hello');
    const r = await s.get('a/b.txt');
    expect(typeof (r as unknown as { fd: unknown }).fd).toBe('number');
    expect(await text(r)).toBe('hello');
    await expect(s.get('a/none')).rejects.toMatchObject({ code: 'STORAGE_OBJECT_MISSING' });
    await expect(s.get('a')).rejects.toMatchObject({ code: 'STORAGE_OBJECT_MISSING' });
  });

  it('stat and list see complete objects only, recursively and sorted, by prefix', async () => {
    const s = fresh();
    await s.put('t/db/2.dump', 'bb');
    await s.put('t/db/1.dump', 'a');
    await s.put('t/db.dir/toc.dat', 'ccc');
    await s.put('t/other/x', 'd');
    writeFileSync(path.join(s.root, 't/db/3.dump.abc.partial'), 'half');
    mkdirSync(path.join(s.root, 't/old.dir.partial'));
    writeFileSync(path.join(s.root, 't/old.dir.partial/toc.dat'), 'half');
    expect((await s.stat('t/db/2.dump'))?.size).toBe(2);
    expect(await s.stat('t/db')).toBeNull();
    expect(await s.stat('t/nothing')).toBeNull();
    expect((await s.list('t/db/')).map((o) => [o.name, o.size])).toEqual([['t/db/1.dump', 1], ['t/db/2.dump', 2]]);
    expect((await s.list('t/db')).map((o) => o.name)).toEqual(['t/db.dir/toc.dat', 't/db/1.dump', 't/db/2.dump']);
    expect((await s.list('')).map((o) => o.name)).toEqual(['t/db.dir/toc.dat', 't/db/1.dump', 't/db/2.dump', 't/other/x']);
    expect(await s.list('nope/')).toEqual([]);
    expect((await s.list('t/db/1'))[0]!.modified).toBeInstanceOf(Date);
  });

  it('remove is idempotent and removes an old folder artifact whole', async () => {
    const s = fresh();
    await s.put('f/a.dir/toc.dat', 'x');
    await s.put('f/b', 'y');
    await s.remove('f/a.dir');
    await s.remove('f/a.dir');
    await s.remove('f/b');
    expect(allFiles(s.root)).toEqual([]);
  });

  it('discardIncomplete removes a partial of this folder and refuses anything else', async () => {
    const s = fresh();
    const p = path.join(s.root, 'x.0123456789ab.partial');
    writeFileSync(p, 'half');
    await s.discardIncomplete(p);
    expect(existsSync(p)).toBe(false);
    await s.discardIncomplete(p); // idempotent
    await expect(s.discardIncomplete(path.join(root, 'elsewhere.partial'))).rejects.toThrow();
    await s.put('keep', 'k');
    await expect(s.discardIncomplete(path.join(s.root, 'keep'))).rejects.toThrow();
    expect(existsSync(path.join(s.root, 'keep'))).toBe(true);
  });

  it('check: a missing folder is STORAGE_MISSING; the default folder is made on first use', async () => {
    await expect(new LocalFolderStorage(path.join(root, 'missing')).check()).rejects.toMatchObject({ code: 'STORAGE_MISSING' });
    const made = new LocalFolderStorage(path.join(root, 'made/here'), { create: true });
    await made.check();
    expect(existsSync(path.join(root, 'made/here'))).toBe(true);
    writeFileSync(path.join(root, 'a-file'), '');
    await expect(new LocalFolderStorage(path.join(root, 'a-file')).check()).rejects.toMatchObject({ code: 'STORAGE_MISSING' });
  });

  it('diskError names what a person can fix', () => {
    expect(diskError(Object.assign(new Error('x'), { code: 'ENOSPC' }), '/s')).toMatchObject({ code: 'DISK_FULL' });
    expect(diskError(Object.assign(new Error('x'), { code: 'EACCES' }), '/s')).toMatchObject({ code: 'STORAGE_NOT_WRITABLE' });
    expect(diskError(new Error('x'), '/s')).toBeNull();
  });
});

describe('storageFor', () => {
  it("a row's storage wins, then the location it recorded, then the default folder", () => {
    const withStorage = storageFor({ storage: { id: 'st-1', path: '/srv/backups' }, location: '/old' });
    expect(withStorage.id).toBe('st-1');
    expect(withStorage.describe()).toBe('/srv/backups');
    const byLocation = storageFor({ storage: null, location: '/old/place' });
    expect(byLocation.id).toBeNull();
    expect(byLocation.describe()).toBe('/old/place');
    const saved = process.env.LIFEBOAT_DATA_DIR;
    process.env.LIFEBOAT_DATA_DIR = '/data/lb';
    try {
      expect(defaultStoragePath()).toBe('/data/lb/backups');
      expect(storageFor({}).describe()).toBe('/data/lb/backups');
      expect(storageFor({ storage: null, location: null }).id).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.LIFEBOAT_DATA_DIR;
      else process.env.LIFEBOAT_DATA_DIR = saved;
    }
    expect(() => storageFor({ storage: { id: 's3', path: 'bucket', kind: 's3' } })).toThrow(/not supported/);
  });
});
