// worker/pg/pipeline.ts with the real zstd: the kernel connects producer and zstd (the worker relays nothing and
// neither run is reported failed), zstd's exit follows the producer's, a dead zstd stops the producer, and a .zst is decompressed
// while its own SHA-256 is taken.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { decompressAndHash, sha256OfFile, startCompressedDump, zstdDecompressArgs, zstdThreads } from '../../../../worker/pg/pipeline';
import { zstdArgs, defaultDumpSettings } from '../../../../worker/pg/pg-dump';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-pipeline-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const opts = () => ({ env: { PATH: process.env.PATH }, extendEnv: false as const, cancelSignal: new AbortController().signal });

/**
 * The socket inodes that reach zstd's stdin: its own fd 0 and, for a socketpair, the peer end this process was
 * given for the producer (consecutive inodes: the pair is created together).
 */
const zstdInputPeers = (pid: number) => {
  const own = readlinkSync(`/proc/${pid}/fd/0`);
  const n = Number(/\[(\d+)\]/.exec(own)?.[1]);
  return [own, `socket:[${n - 1}]`, `socket:[${n + 1}]`, own.startsWith('pipe:') ? own : ''];
};

describe('zstdThreads', () => {
  it('leaves a core to pg_dump and the server: one worker on 2 cores, never fewer than one, never more than asked', () => {
    expect(zstdThreads(2, 2)).toBe(1);
    expect(zstdThreads(2, 1)).toBe(1);
    expect(zstdThreads(2, 4)).toBe(2);
    expect(zstdThreads(4, 8)).toBe(4);
    expect(zstdThreads(1, 16)).toBe(1);
    expect(zstdArgs({ ...defaultDumpSettings, zstdThreads: zstdThreads(defaultDumpSettings.zstdThreads, 2) })).toEqual(['-3', '-T1', '-c', '-q']);
  });
});

describe('zstdDecompressArgs', () => {
  it('decompresses one file into another, replacing the job scratch file', () => {
    expect(zstdDecompressArgs('/s/a b.dump.zst', '/s/.restore-1.dump')).toEqual(['-d', '-q', '-f', '/s/a b.dump.zst', '-o', '/s/.restore-1.dump']);
  });
});

describe('startCompressedDump', () => {
  it('compresses what the producer writes, byte for byte, with the kernel between them; neither run counts as failed', async () => {
    const input = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(3 << 20, 'lifeboat ')]);
    const file = path.join(dir, 'input.bin');
    writeFileSync(file, input);
    // `sh -c 'sleep; cat'`: alive long enough to look at its descriptors, then writes the whole file.
    const { dump, zstd } = startCompressedDump('sh', ['-c', 'sleep 0.5; exec cat "$0"', file], ['-3', '-T1', '-c', '-q'], opts());
    expect(dump.stdout).toBeFalsy(); // nothing of pg_dump's output comes through this process
    const chunks: Buffer[] = [];
    zstd.stdout!.on('data', (c: Buffer) => chunks.push(c));
    // The producer's stdout is zstd's stdin itself, not a pipe this process reads.
    expect(readlinkSync(`/proc/${dump.pid}/fd/1`)).toMatch(/^(socket|pipe):/);
    expect(zstdInputPeers(zstd.pid!)).toContain(readlinkSync(`/proc/${dump.pid}/fd/1`));
    const [d, z] = await Promise.all([dump, zstd]);
    expect([d.exitCode, d.failed, z.exitCode, z.failed]).toEqual([0, false, 0, false]);
    const out = Buffer.concat(chunks);
    expect(out.length).toBeLessThan(input.length);
    const back = await execa('zstd', ['-d', '-c', '-q'], { input: out, encoding: 'buffer' });
    expect(sha(Buffer.from(back.stdout))).toBe(sha(input));
  }, 30_000);

  it('ends the producer when zstd dies (it writes into a closed pipe) instead of leaving it blocked', async () => {
    const { dump, zstd } = startCompressedDump('sh', ['-c', 'exec cat /dev/zero'], ['-3', '-T1', '-c', '-q'], opts());
    zstd.stdout!.resume();
    await new Promise((r) => setTimeout(r, 300));
    zstd.kill('SIGKILL');
    const d = await Promise.race([dump, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(d).not.toBe('still running');
    expect((d as Awaited<typeof dump>).exitCode === 0).toBe(false);
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
