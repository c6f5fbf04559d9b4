// lib/storage/hashing.ts: the one way Lifeboat takes a SHA-256, checked against published digests (FIPS 180-2
// "abc", the empty message), across chunk and block boundaries, and passing the bytes on unchanged.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { FILE_BLOCK, hashingTap, sha256OfFile, sha256OfStream } from '../../../../lib/storage/hashing';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-hashing-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const FOX = 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** `data` cut into chunks of the given sizes, round and round, as a stream delivers them. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Runs `chunks` through a tap into a sink; the tap's digest and the bytes that came out. */
async function throughTap(chunks: (Buffer | string)[]) {
  const tap = hashingTap();
  const got: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      got.push(c);
      cb();
    },
  });
  await pipeline(Readable.from(chunks, { objectMode: false }), tap, sink);
  return { digest: tap.digest(), out: Buffer.concat(got) };
}

describe('hashingTap', () => {
  it('hashes known bytes to their published SHA-256 and passes them on unchanged', async () => {
    expect(await throughTap([Buffer.from('abc')])).toEqual({ digest: { sha256: ABC, size: 3 }, out: Buffer.from('abc') });
    const fox = Buffer.from('The quick brown fox jumps over the lazy dog');
    expect((await throughTap(chunked(fox, [1, 2, 5]))).digest).toEqual({ sha256: FOX, size: fox.length });
  });

  it('an empty stream: the SHA-256 of nothing, 0 bytes', async () => {
    expect(await throughTap([])).toEqual({ digest: { sha256: EMPTY, size: 0 }, out: Buffer.alloc(0) });
  });

  it('a stream split into odd chunks hashes as the whole; bytes out are the bytes in, in order', async () => {
    const data = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(70_001, 'PGDMP')]);
    const r = await throughTap(chunked(data, [1, 7, 4093, 65_537, 1 << 20, 3]));
    expect(r.digest).toEqual({ sha256: sha(data), size: data.length });
    expect(r.out.equals(data)).toBe(true);
  });

  it('counts string chunks in bytes (UTF-8), not characters', async () => {
    const text = 'é€😀';
    expect((await throughTap([text])).digest).toEqual({ sha256: sha(Buffer.from(text)), size: Buffer.byteLength(text) });
  });

  it('digest() can be asked again and gives the same answer', async () => {
    const tap = hashingTap();
    await pipeline(Readable.from([Buffer.from('abc')]), tap, new PassThrough().resume());
    expect(tap.digest()).toEqual({ sha256: ABC, size: 3 });
    expect(tap.digest()).toEqual({ sha256: ABC, size: 3 });
    expect(tap.size).toBe(3);
  });
});

describe('sha256OfStream', () => {
  it('known bytes, an empty stream, and odd chunks', async () => {
    expect(await sha256OfStream(Readable.from([Buffer.from('a'), Buffer.from('bc')]))).toEqual({ sha256: ABC, size: 3 });
    expect(await sha256OfStream(Readable.from([]))).toEqual({ sha256: EMPTY, size: 0 });
    const data = randomBytes(1_000_003);
    expect(await sha256OfStream(Readable.from(chunked(data, [9, 65_536, 333_333])))).toEqual({ sha256: sha(data), size: data.length });
  });
});

describe('sha256OfFile', () => {
  it('known bytes and an empty file', async () => {
    writeFileSync(path.join(dir, 'abc'), 'abc');
    writeFileSync(path.join(dir, 'empty'), '');
    expect(await sha256OfFile(path.join(dir, 'abc'))).toEqual({ sha256: ABC, size: 3 });
    expect(await sha256OfFile(path.join(dir, 'empty'))).toEqual({ sha256: EMPTY, size: 0 });
  });

  it('a file of several blocks and a part (the reused buffer never leaks an earlier block into the hash)', async () => {
    // Two full blocks, then a short last one: a reused buffer hashed whole instead of its filled part would differ.
    const data = Buffer.concat([randomBytes(2 * FILE_BLOCK), Buffer.from('tail')]);
    writeFileSync(path.join(dir, 'big'), data);
    expect(await sha256OfFile(path.join(dir, 'big'))).toEqual({ sha256: sha(data), size: data.length });
  });

  it('stops with the signal, and a missing file is ENOENT', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stopped'));
    await expect(sha256OfFile(path.join(dir, 'abc'), ac.signal)).rejects.toThrow('stopped');
    await expect(sha256OfFile(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
