// worker/pg/archive-check.ts checkArchiveFifo with real programs: the read-back reads a FIFO that tee fills, so a
// read-back that gives up early never stops the bytes on their way to storage, and a writer that never came never
// leaves the read-back waiting.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveDamaged, checkArchiveFifo, makeFifo } from '../../../../worker/pg/archive-check';
import { teeArgs } from '../../../../worker/pg/pg-dump';
import { pipeChain } from '../../../../worker/pg/run-tool';

const PG_RESTORE = '/usr/lib/postgresql/15/bin/pg_restore';
const signal = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-fifo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkArchiveFifo', () => {
  it('bytes that are not an archive: the read-back refuses them while tee still hands every byte on and exits 0', async () => {
    const fifo = join(dir, 'a.read-back');
    await makeFifo(fifo, signal);
    const data = randomBytes(4 << 20); // larger than any pipe buffer: tee must write on after the reader is gone
    const file = join(dir, 'a.bin');
    writeFileSync(file, data);
    const check = checkArchiveFifo(false, PG_RESTORE, fifo, signal);
    const [src, tee] = pipeChain([
      { exe: 'cat', args: [file], signal },
      { exe: 'tee', args: teeArgs(fifo), signal, stdout: 'pipe' },
    ]);
    let bytes = 0;
    tee!.stdout!.on('data', (d: Buffer) => (bytes += d.length));
    await expect(check.result).rejects.toBeInstanceOf(ArchiveDamaged);
    await expect(check.result).rejects.toThrow(/pg_restore cannot read all of it/);
    const [s, t] = await Promise.all([src!, tee!]);
    await check.writerGone();
    expect([s.exitCode, t.exitCode]).toEqual([0, 0]);
    expect(bytes).toBe(data.length);
  });

  it('zstd bytes that are not zstd: zstd is named', async () => {
    const fifo = join(dir, 'b.read-back');
    await makeFifo(fifo, signal);
    const check = checkArchiveFifo(true, PG_RESTORE, fifo, signal);
    const [t] = pipeChain([
      { exe: 'sh', args: ['-c', 'printf "not zstd at all"'], signal },
      { exe: 'tee', args: teeArgs(fifo), signal, stdout: 'ignore' },
    ]).slice(1);
    await expect(check.result).rejects.toThrow(/zstd cannot decode it/);
    expect((await t!).exitCode).toBe(0);
  });

  it('a writer that never opened the FIFO: once it is gone the read-back ends (refused), it does not wait for ever', async () => {
    const fifo = join(dir, 'c.read-back');
    await makeFifo(fifo, signal);
    const check = checkArchiveFifo(true, PG_RESTORE, fifo, signal);
    await new Promise((r) => setTimeout(r, 200));
    await check.writerGone();
    await expect(check.result).rejects.toBeInstanceOf(ArchiveDamaged);
  }, 10_000);
});
