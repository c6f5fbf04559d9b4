// SHA-256 and byte count of what is written or read, taken one way everywhere: a tap that hashes a stream as it
// passes (a put, a staged copy, an archive on its way to zstd), and a reader for whole files in large blocks.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

export interface Digest {
  /** Lowercase hex. */
  sha256: string;
  /** Bytes hashed. */
  size: number;
}

/** Block of a file read by sha256OfFile: one read and one hash update per 4 MiB. */
export const FILE_BLOCK = 4 << 20;
/**
 * highWaterMark for read and write streams of stored and staged files: Node's default of 64 KiB costs a read, a
 * buffer and a hash update per 64 KiB.
 */
export const STREAM_BLOCK = 1 << 20;

/** A pass-through stream that hashes and counts every byte going through; digest() once it has finished. */
export class HashingTap extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private result: Digest | undefined;

  constructor() {
    super({ readableHighWaterMark: STREAM_BLOCK, writableHighWaterMark: STREAM_BLOCK });
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.hash.update(b);
    this.bytes += b.length;
    cb(null, b);
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.bytes;
  }

  /** The SHA-256 and size of everything that went through; ends the hash, so call it after the stream finished. */
  digest(): Digest {
    this.result ??= { sha256: this.hash.digest('hex'), size: this.bytes };
    return this.result;
  }
}

export function hashingTap(): HashingTap {
  return new HashingTap();
}

/** SHA-256 and size of everything a stream yields (the stream is consumed). */
export async function sha256OfStream(source: AsyncIterable<Buffer | string>): Promise<Digest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(b);
    size += b.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** SHA-256 and size of a file, read in FILE_BLOCK blocks into one reused buffer (no allocation per block). */
export async function sha256OfFile(path: string, signal?: AbortSignal): Promise<Digest> {
  signal?.throwIfAborted();
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(FILE_BLOCK);
  let size = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      hash.update(buf.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), size };
}
