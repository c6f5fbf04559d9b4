// The one storage interface: named objects, written whole or not at all, checksummed; no method takes or returns
// a path on disk, so a local folder, S3 or anything else is a driver behind it (storage-for.ts picks one).
import type { Readable } from 'node:stream';

export interface StoredObject {
  name: string;
  size: number;
  sha256: string;
}

export interface ObjectInfo {
  name: string;
  size: number;
  modified: Date;
}

export interface PutOptions {
  signal?: AbortSignal;
  /** Told the opaque handle of the incomplete object before the first byte lands, and when it is gone/complete;
   *  JobContext provides one (ctx.incomplete) so a crash sweep can discard what a dead job left. */
  incomplete?: { add(handle: string): Promise<void>; remove(handle: string): Promise<void> };
}

export interface Storage {
  /** The storage row id, null for the default folder. */
  readonly id: string | null;
  /** For messages: "local folder /x/y". */
  describe(): string;
  /** STORAGE_MISSING / STORAGE_NOT_WRITABLE with what to do. */
  check(): Promise<void>;
  /** Stores the whole stream under `name`; the object appears only when complete (fsync + link for local).
   *  Same name + same bytes: succeeds (returns the existing object). Same name + other bytes: UserError
   *  STORAGE_OBJECT_EXISTS. A failed/aborted put leaves nothing that looks complete. ENOSPC -> DISK_FULL. */
  put(name: string, source: Readable | Buffer | string, opts?: PutOptions): Promise<StoredObject>;
  /** A readable stream of the object; UserError STORAGE_OBJECT_MISSING when absent. A local driver returns an
   *  fs.ReadStream with its fd already open, so runTool can hand it to a tool through the kernel. */
  get(name: string, opts?: { signal?: AbortSignal }): Promise<Readable>;
  stat(name: string): Promise<ObjectInfo | null>;
  /** Complete objects whose names start with `prefix` (recursive, sorted). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Idempotent: 'removed' when this call deleted the object, 'missing' when it was not there (nothing deleted). */
  remove(name: string): Promise<'removed' | 'missing'>;
  /** For the crash sweep: discard an incomplete object by the handle put() reported. */
  discardIncomplete(handle: string): Promise<void>;
}
