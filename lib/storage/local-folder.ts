// The local-folder storage driver: an object is written as a uniquely named .partial file, hashed (SHA-256) on the
// way, fsynced, hard-linked to its name (never replacing one that exists) and the folder fsynced, so a crash,
// kill or full disk never leaves a file that looks complete. Only storage-for.ts and tests build one.
import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream, fstat as fstatCb, open as openCb, type ReadStream } from 'node:fs';
import { access, link, lstat, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { UserError } from '../errors';
import { hashingTap, sha256OfFile, STREAM_BLOCK } from './hashing';
import type { ObjectInfo, PutOptions, Storage, StoredObject } from './storage';

const openFd = promisify(openCb);
const fstatFd = promisify(fstatCb);
const PARTIAL = '.partial';

/** A file-system error as what a person can fix, or null when it is none of those. */
export function diskError(err: unknown, where: string): UserError | null {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new UserError('DISK_FULL', `The storage at ${where} is full.`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new UserError('STORAGE_NOT_WRITABLE', `Lifeboat cannot write to ${where}.`);
  if (code === 'ENOENT') return new UserError('STORAGE_MISSING', `The storage folder ${where} does not exist.`);
  return null;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  await fh.sync().finally(() => fh.close());
}

export class LocalFolderStorage implements Storage {
  readonly id: string | null;
  readonly root: string;
  private readonly create: boolean;

  /** `create`: the folder is made (0700) when missing; only for the default folder, a configured one must exist. */
  constructor(root: string, opts: { id?: string | null; create?: boolean } = {}) {
    this.root = resolve(root);
    this.id = opts.id ?? null;
    this.create = opts.create ?? false;
  }

  /** The folder itself: backup rows store it as their location (and messages name it). */
  describe(): string {
    return this.root;
  }

  /** The file of an object; refuses names that leave the folder or could be taken for a partial file. */
  private pathOf(name: string): string {
    const parts = name.split('/');
    if (!name || name.includes('\0') || name.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.endsWith(PARTIAL)))
      throw new Error(`not a valid object name: ${JSON.stringify(name)}`);
    const p = resolve(this.root, ...parts);
    if (!p.startsWith(this.root + sep)) throw new Error(`object name escapes the storage folder: ${name}`);
    return p;
  }

  async check(): Promise<void> {
    try {
      if (this.create) await mkdir(this.root, { recursive: true, mode: 0o700 });
      const st = await stat(this.root);
      if (!st.isDirectory()) throw new UserError('STORAGE_MISSING', `The storage path ${this.root} is not a folder.`);
      await access(this.root, constants.W_OK | constants.X_OK);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw diskError(err, this.root) ?? err;
    }
  }

  async put(name: string, source: Readable | Buffer | string, opts: PutOptions = {}): Promise<StoredObject> {
    const finalPath = this.pathOf(name);
    opts.signal?.throwIfAborted();
    await mkdir(dirname(finalPath), { recursive: true }).catch((err) => {
      throw diskError(err, this.root) ?? err;
    });
    // A name of its own per put: two puts of one name never write into each other's partial file.
    const partialPath = `${finalPath}.${randomBytes(6).toString('hex')}${PARTIAL}`;
    await opts.incomplete?.add(partialPath);
    try {
      const tap = hashingTap();
      const input = typeof source === 'string' || Buffer.isBuffer(source) ? Readable.from([Buffer.from(source)]) : source;
      // 'wx': a partial name is never shared; the stream closes its fd when done (or destroyed).
      await pipeline(input, tap, createWriteStream(partialPath, { flags: 'wx', mode: 0o600, highWaterMark: STREAM_BLOCK }), { signal: opts.signal });
      opts.signal?.throwIfAborted();
      // Durable data before the name appears (fsync is per file, so a second descriptor flushes what the first wrote).
      const fh = await open(partialPath, 'r+');
      await fh.sync().finally(() => fh.close());
      const { sha256, size } = tap.digest();
      try {
        // link, not rename: an existing object of the same name is never replaced.
        await link(partialPath, finalPath);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const existing = await sha256OfFile(finalPath);
        if (existing.sha256 === sha256 && existing.size === size) return { name, size, sha256 };
        throw new UserError(
          'STORAGE_OBJECT_EXISTS',
          `${name} already exists in ${this.describe()} with other content (${existing.size} bytes, sha256 ${existing.sha256}); it was not replaced.`,
        );
      }
      await rm(partialPath, { force: true });
      await fsyncDir(dirname(finalPath));
      return { name, size, sha256 };
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (err instanceof UserError) throw err;
      throw diskError(err, this.root) ?? err;
    } finally {
      await rm(partialPath, { force: true }).catch(() => {});
      await opts.incomplete?.remove(partialPath).catch(() => {});
    }
  }

  async get(name: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const path = this.pathOf(name);
    let fd: number;
    try {
      fd = await openFd(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') throw this.missing(name);
      throw diskError(err, this.root) ?? err;
    }
    const stream: ReadStream = createReadStream(path, { fd, highWaterMark: STREAM_BLOCK });
    // A folder opens too (an older directory-format dump): it is not an object.
    const st = await fstatFd(fd).catch(() => null);
    if (!st?.isFile()) {
      stream.destroy();
      throw this.missing(name);
    }
    return opts.signal ? addAbortSignal(opts.signal, stream) : stream;
  }

  private missing(name: string) {
    return new UserError('STORAGE_OBJECT_MISSING', `${name} is not in ${this.describe()}.`);
  }

  async stat(name: string): Promise<ObjectInfo | null> {
    const st = await lstat(this.pathOf(name)).catch(() => null);
    return st?.isFile() ? { name, size: st.size, modified: st.mtime } : null;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = base ? this.pathOf(base) : this.root;
    const out: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw diskError(err, this.root) ?? err;
      });
      for (const e of entries) {
        if (e.name.endsWith(PARTIAL)) continue; // incomplete: not an object (files, and old partial folders)
        const path = join(dir, e.name);
        const name = relative(this.root, path).split(sep).join('/');
        if (e.isDirectory()) {
          if (name.startsWith(prefix) || prefix.startsWith(`${name}/`)) await walk(path);
        } else if (e.isFile() && name.startsWith(prefix)) {
          const st = await lstat(path).catch(() => null);
          if (st) out.push({ name, size: st.size, modified: st.mtime });
        }
      }
    };
    await walk(start);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async remove(name: string): Promise<'removed' | 'missing'> {
    // recursive: a directory-format dump of older versions is a folder under its name. No force: a missing object is
    // reported as missing, so a caller records only what it really deleted.
    try {
      await rm(this.pathOf(name), { recursive: true });
      return 'removed';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw err;
    }
  }

  async discardIncomplete(handle: string): Promise<void> {
    const p = resolve(handle);
    if (!p.startsWith(this.root + sep) || !p.endsWith(PARTIAL)) throw new Error(`not an incomplete object of ${this.root}: ${handle}`);
    await rm(p, { force: true, recursive: true });
  }
}
