// DEPRECATED (issue 9): the path-based writer, kept only until every caller uses storageFor() and put/get
// (lib/storage/storage.ts). New code must not import it. Local-directory storage: artifacts are written as <name>.partial with SHA-256 while streaming, fsynced, renamed,
// and the folder fsynced, so a crash, kill or full disk never leaves a file that looks complete.
import { createHash } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { UserError } from '../errors';
import { diskError } from './local-folder';

export interface StoredArtifact {
  path: string;
  size: number;
  sha256: string;
}

export interface ArtifactWriter {
  partialPath: string;
  finalPath: string;
  /** Where the producer writes; counts bytes and hashes on the way. */
  stream: Writable;
  bytesWritten(): number;
  /** Waits for the stream to end, fsyncs, renames to the final name, fsyncs the folder. */
  commit(): Promise<StoredArtifact>;
  /** Removes the partial file (idempotent). */
  abort(): Promise<void>;
}

export interface WriterOptions {
  /**
   * Also receives every byte written, in order, with backpressure (a verifier reading the artifact as it is
   * stored); ended when the stream ends. If the tap fails it is left behind and the file is still written.
   */
  tap?: Writable;
}

export interface Storage {
  describe(): string;
  /** Throws STORAGE_MISSING or STORAGE_NOT_WRITABLE with what to do. */
  check(): Promise<void>;
  createWriter(name: string, opts?: WriterOptions): Promise<ArtifactWriter>;
  remove(name: string): Promise<void>;
  size(name: string): Promise<number | null>;
  localPath(name: string): string;
}

// Moved: the driver and the resolver own these now; re-exported while callers move to storageFor().
export { diskError } from './local-folder';
export { defaultStoragePath } from './storage-for';

export class LocalStorage implements Storage {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  describe() {
    return this.root;
  }

  localPath(name: string): string {
    const p = resolve(this.root, name);
    if (!p.startsWith(this.root + sep)) throw new Error(`artifact name escapes the storage folder: ${name}`);
    return p;
  }

  async check(): Promise<void> {
    try {
      const st = await stat(this.root);
      if (!st.isDirectory()) throw new UserError('STORAGE_MISSING', `The storage path ${this.root} is not a folder.`);
      await access(this.root, constants.W_OK | constants.X_OK);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw diskError(err, this.root) ?? err;
    }
  }

  async createWriter(name: string, opts: WriterOptions = {}): Promise<ArtifactWriter> {
    const finalPath = this.localPath(name);
    const partialPath = `${finalPath}.partial`;
    await mkdir(dirname(finalPath), { recursive: true }).catch((err) => {
      throw diskError(err, this.root) ?? err;
    });
    const file = createWriteStream(partialPath, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 });
    // 'wx' never overwrites (a name collision is a bug, not something to paper over); open errors arrive as events.
    const opened = new Promise<void>((res, rej) => {
      file.once('open', () => res());
      file.once('error', rej);
    });
    await opened.catch((err) => {
      throw diskError(err, this.root) ?? err;
    });
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = opts.tap;
    let tapGone = false;
    tap?.on('error', () => (tapGone = true));
    tap?.on('close', () => (tapGone = true));
    const tapDrained = () =>
      new Promise<void>((res) => {
        const done = () => {
          tap!.off('drain', done).off('error', done).off('close', done);
          res();
        };
        tap!.on('drain', done).on('error', done).on('close', done);
      });
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        if (tap && !tapGone && !tap.write(chunk)) return void tapDrained().then(() => cb(null, chunk));
        cb(null, chunk);
      },
      flush(cb) {
        if (tap && !tapGone) tap.end();
        cb();
      },
    });
    counter.pipe(file);
    // A write error (full disk) must reach the producer's side, or pg_dump would block on a pipe nobody drains.
    file.on('error', (err) => counter.destroy(err));
    const closed = new Promise<void>((res, rej) => {
      file.on('close', res);
      file.on('error', rej);
      counter.on('error', rej);
    });
    closed.catch(() => {}); // observed in commit(); avoid an unhandled rejection when aborted
    return {
      partialPath,
      finalPath,
      stream: counter,
      bytesWritten: () => bytes,
      commit: async () => {
        try {
          await closed;
          // fsync the data, then make the rename durable by fsyncing the folder.
          const fh = await open(partialPath, 'r+');
          await fh.sync().finally(() => fh.close());
          // link + unlink instead of rename: never replace an existing artifact of the same name.
          await link(partialPath, finalPath);
          await rm(partialPath, { force: true });
          const dir = await open(dirname(finalPath), 'r');
          await dir.sync().finally(() => dir.close());
        } catch (err) {
          await rm(partialPath, { force: true });
          throw diskError(err, this.root) ?? err;
        }
        return { path: finalPath, size: bytes, sha256: hash.digest('hex') };
      },
      abort: async () => {
        tap?.destroy();
        counter.destroy();
        file.destroy();
        await rm(partialPath, { force: true });
      },
    };
  }

  async remove(name: string): Promise<void> {
    // recursive: directory-format artifacts are folders.
    await rm(this.localPath(name), { force: true, recursive: true });
  }

  async size(name: string): Promise<number | null> {
    return stat(this.localPath(name)).then((s) => s.size, () => null);
  }

  read(name: string) {
    return createReadStream(this.localPath(name));
  }
}

/**
 * A folder artifact (pg_dump's directory format): the producer fills <name>.partial/; commit fsyncs every file,
 * hashes each, renames the folder into place and fsyncs the parent. The artifact's checksum is the SHA-256 of
 * its sorted "sha256  file" list, which the manifest also carries.
 */
export async function commitFolder(partialPath: string, finalPath: string) {
  const files: { name: string; size: number; sha256: string }[] = [];
  for (const name of (await readdir(partialPath)).sort()) {
    const path = join(partialPath, name);
    const fh = await open(path, 'r+');
    try {
      await fh.sync();
      const hash = createHash('sha256');
      for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
      files.push({ name, size: (await fh.stat()).size, sha256: hash.digest('hex') });
    } finally {
      await fh.close();
    }
  }
  const dir = await open(partialPath, 'r');
  await dir.sync().finally(() => dir.close());
  await rename(partialPath, finalPath);
  const parent = await open(dirname(finalPath), 'r');
  await parent.sync().finally(() => parent.close());
  const sha256 = createHash('sha256').update(files.map((f) => `${f.sha256}  ${f.name}\n`).join('')).digest('hex');
  return { path: finalPath, size: files.reduce((a, f) => a + f.size, 0), sha256, files };
}

/** Bytes in a folder (progress of a directory-format dump). */
export async function folderSize(path: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await stat(join(path, name)).then((s) => s.size, () => 0);
  return total;
}

/** Writes a small file (manifest, globals) atomically. */
export async function writeSmallFile(path: string, content: string | Buffer): Promise<{ sha256: string; size: number }> {
  const partial = `${path}.partial`;
  try {
    const fh = await open(partial, 'w', 0o600);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, path);
  } catch (err) {
    await rm(partial, { force: true });
    throw diskError(err, dirname(path)) ?? err;
  }
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  return { sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length };
}
