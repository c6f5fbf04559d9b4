// Reads a pg_dump custom-format archive from end to end as it streams by: header, table of contents, then every
// data block's chunks up to its end marker (gzip blocks inflated), and insists that each TOC entry with data has
// its block and nothing follows the last one. pg_restore --list reads only the TOC, so a truncated file passes it;
// this does not. Layout from PostgreSQL's pg_backup_archiver.c (ReadHead, ReadToc) and pg_backup_custom.c.
import { PassThrough, type Readable, Writable } from 'node:stream';
import { createInflate, type Inflate } from 'node:zlib';
import { lastErrorLine, pipeTools, runTool, type ToolResult } from './run-tool';
import { zstdDecompressArgs } from './zstd';

const BLK_DATA = 1;
const BLK_BLOBS = 3;
const K_OFFSET_NO_DATA = 3;
const ARCH_CUSTOM = 1;
const v = (maj: number, min: number, rev = 0) => (maj * 256 + min) * 256 + rev;

// Entries pg_restore applies itself and leaves out of `pg_restore --list`.
const UNLISTED = new Set(['ENCODING', 'STDSTRINGS', 'SEARCHPATH', 'DATABASE', 'DATABASE PROPERTIES']);

export interface ArchiveSummary {
  version: string;
  compression: 'none' | 'gzip' | 'lz4' | 'zstd';
  /** TOC entries as `pg_restore --list` lists them. */
  tocEntries: number;
  /** TOC entries whose data block was read to its end (TABLE DATA, BLOBS ...). */
  dataBlocks: number;
  /** TABLE DATA entries in the TOC (what `pg_restore --list` counts as tables with data). */
  tableData: number;
  bytes: number;
}

/** A damaged or incomplete archive: the message says what is missing, in words a person can act on. */
export class ArchiveDamaged extends Error {}

class NeedMore extends Error {}

/** Parses the header and TOC from `buf`; throws NeedMore when the buffer ends first. */
function parseHead(buf: Buffer) {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new NeedMore();
  };
  const byte = () => {
    need(1);
    return buf[pos++]!;
  };
  need(5);
  if (buf.toString('latin1', 0, 5) !== 'PGDMP') throw new ArchiveDamaged('it does not start like a pg_dump custom-format archive ("PGDMP").');
  pos = 5;
  const vmaj = byte();
  const vmin = byte();
  const vrev = vmaj > 1 || (vmaj === 1 && vmin > 0) ? byte() : 0;
  const version = v(vmaj, vmin, vrev);
  if (version < v(1, 10)) throw new ArchiveDamaged(`archive version ${vmaj}.${vmin} is older than Lifeboat reads (pg_dump 9.0 or newer).`);
  if (version > v(1, 255, 255) || vmaj !== 1) throw new ArchiveDamaged(`archive version ${vmaj}.${vmin} is unknown.`);
  const intSize = byte();
  const offSize = byte();
  if (intSize < 1 || intSize > 8 || offSize < 1 || offSize > 8) throw new ArchiveDamaged('its header is damaged (integer sizes).');
  const format = byte();
  if (format !== ARCH_CUSTOM) throw new ArchiveDamaged(`it is not a custom-format archive (format ${format}).`);
  const int = () => {
    need(1 + intSize);
    const sign = buf[pos++]!;
    let res = 0;
    for (let b = 0; b < intSize; b++) res += buf[pos++]! * 2 ** (8 * b);
    return sign ? -res : res;
  };
  const str = (): string | null => {
    const len = int();
    if (len < 0) return null;
    need(len);
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    return s;
  };
  let compression: ArchiveSummary['compression'];
  if (version >= v(1, 15)) {
    const alg = byte();
    compression = (['none', 'gzip', 'lz4', 'zstd'] as const)[alg] ?? (() => { throw new ArchiveDamaged(`its header names an unknown compression (${alg}).`); })();
  } else {
    compression = int() !== 0 ? 'gzip' : 'none';
  }
  for (let i = 0; i < 7; i++) int(); // creation time
  str(); // database name
  str(); // server version
  str(); // pg_dump version
  const count = int();
  if (count < 0 || count > 100_000_000) throw new ArchiveDamaged('its table of contents is damaged (entry count).');
  const withData = new Set<number>();
  let tableData = 0;
  let listed = 0;
  for (let i = 0; i < count; i++) {
    const dumpId = int();
    if (dumpId <= 0) throw new ArchiveDamaged(`its table of contents is damaged (entry id ${dumpId}).`);
    const hadDumper = int();
    str(); // tableoid
    str(); // oid
    str(); // tag
    const desc = str();
    if (desc === 'TABLE DATA') tableData++;
    if (!UNLISTED.has(desc ?? '')) listed++;
    int(); // section
    str(); // defn
    str(); // drop statement
    str(); // copy statement
    str(); // namespace
    str(); // tablespace
    if (version >= v(1, 14)) str(); // table access method
    if (version >= v(1, 16)) int(); // relkind
    str(); // owner
    str(); // "with oids"
    while (str() !== null); // dependencies, ended by a null string
    const offsetFlag = byte();
    need(offSize);
    pos += offSize;
    if (hadDumper && offsetFlag !== K_OFFSET_NO_DATA) withData.add(dumpId);
  }
  return { pos, version: `${vmaj}.${vmin}.${vrev}`, intSize, compression, count, listed, withData, tableData };
}

// Where the block reader is: 0 a block's type byte, 1 its TOC id, 2 a large object's oid, 3 a chunk's length,
// 4 inside a chunk's bytes. Numbers, not objects: a dump has one chunk per row, millions of them.
const AT_TYPE = 0;
const AT_ID = 1;
const AT_OID = 2;
const AT_LEN = 3;
const AT_DATA = 4;

type Op = { start: true } | { data: Buffer } | { end: true };

/**
 * A Writable that checks a custom-format archive while it is written to it; `summary()` resolves once the stream
 * finished and the archive was complete, and rejects with ArchiveDamaged otherwise.
 */
export class ArchiveChecker extends Writable {
  private head: ReturnType<typeof parseHead> | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private nextParseAt = 4096;
  private at = AT_TYPE;
  private blockType = 0;
  private inBlobs = false;
  private left = 0;
  /** Bytes of an integer split across two chunks. */
  private small: number[] = [];
  private seen = new Set<number>();
  private blockId = 0;
  private inflater: Inflate | null = null;
  private inflated = 0;
  private total = 0;
  private result: Promise<ArchiveSummary>;
  private settle!: { ok: (s: ArchiveSummary) => void; fail: (e: Error) => void };

  constructor() {
    super({ highWaterMark: 1 << 20 });
    this.result = new Promise((ok, fail) => (this.settle = { ok, fail }));
    this.result.catch(() => {});
    this.on('error', (err) => this.settle.fail(err instanceof ArchiveDamaged ? err : new ArchiveDamaged(err.message)));
  }

  summary(): Promise<ArchiveSummary> {
    return this.result;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.total += chunk.length;
    let ops: Op[];
    try {
      ops = this.consume(chunk);
    } catch (err) {
      return cb(err as Error);
    }
    if (!ops.length) return cb();
    this.run(ops).then(() => cb(), (err: Error) => cb(err));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finish().then(
      (s) => {
        this.settle.ok(s);
        cb();
      },
      (err: Error) => cb(err),
    );
  }

  private async finish(): Promise<ArchiveSummary> {
    if (!this.head) {
      const all = Buffer.concat(this.pending);
      this.pending = [];
      try {
        this.accept(parseHead(all));
      } catch (err) {
        if (err instanceof NeedMore) throw new ArchiveDamaged(this.total === 0 ? 'it is empty.' : `it ends inside its table of contents (after ${this.total} bytes): the file is truncated.`);
        throw err;
      }
      await this.run(this.blocks(all, this.head!.pos));
    }
    if (this.at !== AT_TYPE || this.small.length) throw new ArchiveDamaged(`it ends in the middle of the data of TOC entry ${this.blockId} (after ${this.total} bytes): the file is truncated.`);
    const missing = [...this.head!.withData].filter((id) => !this.seen.has(id));
    if (missing.length) throw new ArchiveDamaged(`the data of ${missing.length} TOC entr${missing.length === 1 ? 'y is' : 'ies are'} missing (first: entry ${missing[0]}): the file is truncated.`);
    return { version: this.head!.version, compression: this.head!.compression, tocEntries: this.head!.listed, dataBlocks: this.seen.size, tableData: this.head!.tableData, bytes: this.total };
  }

  private accept(head: ReturnType<typeof parseHead>) {
    if (head.compression === 'lz4' || head.compression === 'zstd') throw new ArchiveDamaged(`its data is compressed with ${head.compression} inside the archive, which this check does not decode.`);
    this.head = head;
  }

  private consume(chunk: Buffer): Op[] {
    if (this.head) return this.blocks(chunk, 0);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Parse again only when the buffer doubled: a large TOC arriving in pipe-sized pieces stays linear.
    if (this.pendingBytes < this.nextParseAt) return [];
    const all = Buffer.concat(this.pending);
    this.pending = [all];
    try {
      this.accept(parseHead(all));
    } catch (err) {
      if (!(err instanceof NeedMore)) throw err;
      this.nextParseAt = this.pendingBytes * 2;
      return [];
    }
    this.pending = [];
    return this.blocks(all, this.head!.pos);
  }

  /**
   * One synchronous pass over `buf` from `pos`; returns what the inflater must do (nothing for uncompressed
   * archives). Integers are read in place unless split across chunks.
   */
  private blocks(buf: Buffer, pos: number): Op[] {
    const ops: Op[] = [];
    const size = 1 + this.head!.intSize;
    const gzip = this.head!.compression === 'gzip';
    const len = buf.length;
    while (pos < len) {
      if (this.at === AT_TYPE) {
        const type = buf[pos++]!;
        if (type !== BLK_DATA && type !== BLK_BLOBS) throw new ArchiveDamaged(`after the data of TOC entry ${this.blockId} comes an unknown block type ${type} (damaged, or not the archive's end).`);
        this.blockType = type;
        this.at = AT_ID;
        continue;
      }
      if (this.at === AT_DATA) {
        const take = Math.min(this.left, len - pos);
        if (gzip) ops.push({ data: buf.subarray(pos, pos + take) });
        pos += take;
        this.left -= take;
        if (this.left === 0) this.at = AT_LEN;
        continue;
      }
      // An integer: sign byte, then intSize bytes little-endian.
      let value = 0;
      let negative: boolean;
      if (this.small.length === 0 && pos + size <= len) {
        negative = buf[pos] !== 0;
        if (size === 5) value = buf.readUInt32LE(pos + 1);
        else for (let b = 1; b < size; b++) value += buf[pos + b]! * 2 ** (8 * (b - 1));
        pos += size;
      } else {
        while (this.small.length < size && pos < len) this.small.push(buf[pos++]!);
        if (this.small.length < size) break;
        negative = this.small[0] !== 0;
        for (let b = 1; b < size; b++) value += this.small[b]! * 2 ** (8 * (b - 1));
        this.small = [];
      }
      if (negative) value = -value;
      if (this.at === AT_ID) {
        if (!this.head!.withData.has(value)) throw new ArchiveDamaged(`it holds data for TOC entry ${value}, which its table of contents does not list with data (damaged).`);
        if (this.seen.has(value)) throw new ArchiveDamaged(`the data of TOC entry ${value} appears twice (damaged).`);
        this.seen.add(value);
        this.blockId = value;
        this.inBlobs = this.blockType === BLK_BLOBS;
        this.at = this.inBlobs ? AT_OID : AT_LEN;
        if (!this.inBlobs && gzip) ops.push({ start: true });
      } else if (this.at === AT_OID) {
        if (value === 0) this.at = AT_TYPE;
        else {
          this.at = AT_LEN;
          if (gzip) ops.push({ start: true });
        }
      } else {
        if (value < 0) throw new ArchiveDamaged(`a data chunk of TOC entry ${this.blockId} has a negative length (damaged).`);
        if (value === 0) {
          if (gzip) ops.push({ end: true });
          this.at = this.inBlobs ? AT_OID : AT_TYPE;
        } else {
          this.left = value;
          this.at = AT_DATA;
        }
      }
    }
    return ops;
  }

  private async run(ops: Op[]): Promise<void> {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if ('data' in op) {
        // pg_dump writes gzip data in 4 kB chunks: one inflater write per run of them, not one per chunk.
        const run = [op.data];
        while (i + 1 < ops.length && 'data' in ops[i + 1]!) run.push((ops[++i] as { data: Buffer }).data);
        await this.inflate(run.length === 1 ? run[0]! : Buffer.concat(run));
      } else if ('start' in op) {
        this.inflater = createInflate();
        this.inflater.resume(); // the decoded rows are not needed, only the proof that they decode
        this.inflated = 0;
      } else await this.endStream();
    }
  }

  private inflate(data: Buffer): Promise<void> {
    const z = this.inflater!;
    this.inflated += data.length;
    return new Promise((ok, fail) => {
      const onError = (err: Error) => fail(new ArchiveDamaged(`the compressed data of TOC entry ${this.blockId} does not decode: ${err.message}.`));
      z.once('error', onError);
      z.write(data, () => {
        z.off('error', onError);
        ok();
      });
    });
  }

  private async endStream(): Promise<void> {
    const z = this.inflater;
    this.inflater = null;
    // A block with no compressed bytes at all is an empty table from a pg_dump that writes nothing for it.
    if (!z || this.inflated === 0) return void z?.destroy();
    await new Promise<void>((ok, fail) => {
      z.once('error', (err) => fail(new ArchiveDamaged(`the compressed data of TOC entry ${this.blockId} does not decode: ${err.message}.`)));
      z.once('end', ok);
      z.end();
    });
  }
}

export interface StreamCheck {
  /** Every stored byte goes here, in order; ended when the file is complete. */
  input: Writable;
  /** Resolves once `input` ended and every byte was decoded and read to the archive's end; rejects with ArchiveDamaged otherwise. */
  result: Promise<void>;
}

// --file=/dev/null: the restore script is produced and thrown away; every data block is read and decoded.
const READ_ALL = ['--file=/dev/null'];
// zstd -d -q -c: decode to stdout, checking each frame's content checksum.
const UNZSTD = zstdDecompressArgs(null, null);

/** The two exits of `zstd -d | pg_restore` as one verdict: a zstd that failed explains more than the pg_restore that
 *  starved behind it, unless zstd only failed because pg_restore had already stopped reading (a broken pipe). */
function verdict(z: ToolResult | null, r: ToolResult): void {
  if (z && z.exitCode !== 0) {
    const why = lastErrorLine(z.stderrTail, 'zstd')?.replace(/^(\/\*stdin\*\\ : )/, '');
    const brokenPipe = z.signal === 'SIGPIPE' || /broken pipe/i.test(why ?? '');
    if (!(brokenPipe && r.exitCode !== 0)) throw new ArchiveDamaged(`zstd cannot decode it (exit ${z.exitCode ?? z.signal}${why ? `: ${why}` : ''}).`);
  }
  if (r.exitCode !== 0) throw new ArchiveDamaged(`pg_restore cannot read all of it: ${lastErrorLine(r.stderrTail, 'pg_restore') ?? `exit ${r.exitCode ?? r.signal}`}`);
}

/**
 * Checks an artifact as its bytes stream by, with C tools doing the reading: `pg_restore --file=/dev/null` reads
 * the whole archive the way a restore does (header, TOC, then every data block to its end marker, compressed data
 * decoded), fed through `zstd -d` for a .zst (every frame decoded, its content checksum checked). zstd hands the
 * decompressed stream to pg_restore through the kernel: walking ~1 GB of it in Node cost more CPU than the dump's
 * own compression. Both exit statuses count.
 */
export function checkArchiveStream(zstd: boolean, pgRestore: string, signal: AbortSignal): StreamCheck {
  // Default buffering: a read-back that stops reading holds the dump back within a few hundred kB, as a restore would.
  const input = new PassThrough();
  const restore = { exe: pgRestore, args: READ_ALL, signal, stdout: 'ignore' as const };
  if (!zstd) {
    const r = runTool({ ...restore, stdin: input });
    const result = r.then((rr) => verdict(null, rr));
    result.catch(() => {});
    return { input, result };
  }
  const { producer, consumer } = pipeTools({ exe: 'zstd', args: UNZSTD, signal, stdin: input }, restore);
  const result = Promise.all([producer, consumer]).then(([zr, rr]) => verdict(zr, rr));
  result.catch(() => {});
  return { input, result };
}

export interface ArchiveHead {
  version: string;
  compression: ArchiveSummary['compression'];
  /** TOC entries as `pg_restore --list` lists them. */
  tocEntries: number;
  /** TOC entries with a data block (TABLE DATA, BLOBS ...). */
  dataBlocks: number;
  /** TABLE DATA entries in the TOC. */
  tableData: number;
}

/**
 * The header and table of contents from the start of an archive stream; stops reading (destroys `source`) as soon
 * as they are parsed, so a 1 GB archive costs the few MB its TOC takes. ArchiveDamaged when the stream ends first.
 */
export async function readArchiveHead(source: Readable): Promise<ArchiveHead> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let nextParseAt = 64 * 1024;
  const tryParse = (): ArchiveHead | null => {
    const all = Buffer.concat(chunks);
    chunks.length = 0;
    chunks.push(all);
    try {
      const h = parseHead(all);
      return { version: h.version, compression: h.compression, tocEntries: h.listed, dataBlocks: h.withData.size, tableData: h.tableData };
    } catch (err) {
      if (err instanceof NeedMore) return null;
      throw err;
    }
  };
  try {
    for await (const chunk of source) {
      chunks.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      // Parse again only when the buffer doubled: a large TOC arriving in pipe-sized pieces stays linear.
      if (bytes < nextParseAt) continue;
      const head = tryParse();
      if (head) return head;
      nextParseAt = bytes * 2;
    }
    const head = tryParse();
    if (head) return head;
    throw new ArchiveDamaged(bytes === 0 ? 'it is empty.' : `it ends inside its table of contents (after ${bytes} bytes): the file is truncated.`);
  } finally {
    source.destroy();
  }
}

/**
 * The head of a stored archive (`source`: the object's bytes): read directly, or for a .zst through `zstd -d`,
 * stopped once the TOC is read (its exit status then only says it was stopped; a zstd that ended before the TOC
 * was complete failed on the file, and says why).
 */
export async function readStoredArchiveHead(source: Readable, zstd: boolean, signal: AbortSignal): Promise<ArchiveHead> {
  if (!zstd) return readArchiveHead(source);
  const z = runTool({ exe: 'zstd', args: UNZSTD, signal, stdin: source, stdout: 'pipe' });
  z.catch(() => {});
  let head: ArchiveHead | undefined;
  try {
    head = await readArchiveHead(z.stdout!);
    return head;
  } catch (err) {
    const zr = await z;
    if (zr.exitCode !== 0) throw new ArchiveDamaged(`zstd cannot decode it (exit ${zr.exitCode ?? zr.signal}): ${lastErrorLine(zr.stderrTail, 'zstd') ?? ''}`);
    throw err;
  } finally {
    if (head) z.kill();
    await z.catch(() => {});
  }
}

