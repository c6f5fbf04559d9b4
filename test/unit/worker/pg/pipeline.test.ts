// worker/pg/pipeline.ts with the real zstd: thread counts for a dump on few cores, and a .zst decompressed while its
// own SHA-256 is taken. (pg_dump | zstd through the kernel is run-tool.ts's pipeTools, tested with it.)
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { scheduleInput } from '../../../../lib/schedules/manage-schedules';
import { decompressAndHash, sha256OfFile, zstdDecompressArgs, zstdThreads } from '../../../../worker/pg/pipeline';
import { zstdArgs, defaultDumpSettings } from '../../../../worker/pg/pg-dump';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pipeline-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
describe('zstdThreads', () => {
  it('leaves a core to pg_dump and the server: one worker on 2 cores, never fewer than one, never more than asked', () => {
    expect(zstdThreads(2, 2)).toBe(1);
    expect(zstdThreads(2, 1)).toBe(1);
    expect(zstdThreads(2, 4)).toBe(2);
    expect(zstdThreads(4, 8)).toBe(4);
    expect(zstdThreads(1, 16)).toBe(1);
    expect(zstdArgs({ ...defaultDumpSettings, zstdThreads: zstdThreads(defaultDumpSettings.zstdThreads, 2) })).toEqual(['-2', '-T1', '-c', '-q']);
  });

  it('a schedule made without a level gets the worker\'s default level (the two are written in two places)', () => {
    expect(scheduleInput.parse({ targetId: '00000000-0000-4000-8000-000000000000', cron: '0 2 * * *' }).zstdLevel).toBe(defaultDumpSettings.zstdLevel);
  });
});

describe('zstdDecompressArgs', () => {
  it('decompresses one file into another, replacing the job scratch file', () => {
    expect(zstdDecompressArgs('/s/a b.dump.zst', '/s/.restore-1.dump')).toEqual(['-d', '-q', '-f', '/s/a b.dump.zst', '-o', '/s/.restore-1.dump']);
  });
});

describe('decompressAndHash', () => {
  const original = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(2 << 20, 'PGDMP ')]);
  const zst = path.join(dir, 'archive.dump.zst');

  it('writes the decompressed file and returns the SHA-256 and size of the compressed one', async () => {
    writeFileSync(path.join(dir, 'archive.dump'), original);
    await execa('zstd', ['-q', '-3', path.join(dir, 'archive.dump'), '-o', zst]);
    const dest = path.join(dir, '.restore-1.dump');
    const r = await decompressAndHash(zst, dest, new AbortController().signal);
    const compressed = readFileSync(zst);
    expect(r).toEqual({ exitCode: 0, stderr: '', sha256: sha(compressed), size: compressed.length });
    expect(sha(readFileSync(dest))).toBe(sha(original));
    expect(await sha256OfFile(zst)).toEqual({ sha256: sha(compressed), size: compressed.length });
  });

  it('a truncated .zst: zstd fails and the checksum is of the bytes that are there', async () => {
    const cut = path.join(dir, 'cut.dump.zst');
    const compressed = readFileSync(zst);
    writeFileSync(cut, compressed.subarray(0, compressed.length >> 1));
    const r = await decompressAndHash(cut, path.join(dir, '.restore-2.dump'), new AbortController().signal);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/truncated|unexpected end|premature/i);
    expect(r.sha256).toBe(sha(compressed.subarray(0, compressed.length >> 1)));
    expect(r.sha256).not.toBe(sha(compressed));
  });
});
