// worker/pg/zstd.ts: argv for compress, decompress and test, and the runners against the real zstd (a damaged
// archive is refused with the code asked for, never passed as good).
import { createReadStream, mkdtempSync, open as openCb, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../../lib/errors';
import { zstdCompressArgs, zstdDecompressArgs, zstdDecompressFile, zstdTest, zstdTestArgs } from '../../../../worker/pg/zstd';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-adapters-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = () => new AbortController().signal;

describe('zstd argv', () => {
  it('compresses stdin to stdout at a level with threads, quietly', () => {
    expect(zstdCompressArgs(3, 1)).toEqual(['-3', '-T1', '-c', '-q']);
    expect(zstdCompressArgs(19, 4)).toEqual(['-19', '-T4', '-c', '-q']);
  });
  it('decompresses file to file (replacing the scratch file), file or stdin to stdout', () => {
    expect(zstdDecompressArgs('/s/a b.dump.zst', '/s/x.dump')).toEqual(['-d', '-q', '-f', '/s/a b.dump.zst', '-o', '/s/x.dump']);
    expect(zstdDecompressArgs('/s/a.zst', null)).toEqual(['-d', '-q', '-c', '/s/a.zst']);
    expect(zstdDecompressArgs(null, null)).toEqual(['-d', '-q', '-c']);
    expect(zstdDecompressArgs(null, '/s/x')).toEqual(['-d', '-q', '-f', '-o', '/s/x']);
  });
  it('tests a file or stdin', () => {
    expect(zstdTestArgs('/s/a.zst')).toEqual(['-t', '-q', '/s/a.zst']);
    expect(zstdTestArgs(null)).toEqual(['-t', '-q']);
  });
});

describe('zstd runners check the exit status', () => {
  const plain = Buffer.alloc(1 << 20, 'lifeboat ');
  const good = path.join(dir, 'good.zst');
  const cut = path.join(dir, 'cut.zst');

  it('decompresses and tests a good archive, from a path or from a file stream', async () => {
    writeFileSync(path.join(dir, 'plain'), plain);
    await execa('zstd', ['-q', '-f', path.join(dir, 'plain'), '-o', good]);
    await zstdTest(good, { signal: signal() });
    const fd = await promisify(openCb)(good, 'r');
    await zstdTest(createReadStream(good, { fd }), { signal: signal() });
    await zstdDecompressFile(good, path.join(dir, 'out'), { signal: signal() });
    expect(readFileSync(path.join(dir, 'out')).equals(plain)).toBe(true);
  });

  it('a cut archive is refused with BACKUP_UNREADABLE (or the code asked for), with zstd\'s reason', async () => {
    const bytes = readFileSync(good);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
    await expect(zstdTest(cut, { signal: signal() })).rejects.toMatchObject({ code: 'BACKUP_UNREADABLE', message: expect.stringMatching(/^zstd -t failed \(exit 1\): .+/) });
    await expect(zstdDecompressFile(cut, path.join(dir, 'out2'), { signal: signal(), code: 'BACKUP_VERIFY_FAILED' })).rejects.toBeInstanceOf(UserError);
    await expect(zstdDecompressFile(cut, path.join(dir, 'out2'), { signal: signal(), code: 'BACKUP_VERIFY_FAILED' })).rejects.toMatchObject({ code: 'BACKUP_VERIFY_FAILED' });
  });
});
