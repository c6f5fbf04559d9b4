// extract: each stored archive of the base backup read from storage, decompressed by its tool and untarred by tar
// (the bytes go storage -> decompressor -> tar through the kernel): base.tar into the data folder, pg_wal.tar into
// its pg_wal, each tablespace's <oid>.tar into <folder>/tablespaces/<oid>, which the data folder's tablespace_map
// and pg_tblspc links then name (never the production server's tablespace folders).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../lib/errors';
import type { Storage } from '../../lib/storage/storage';
import { decompressArgs } from '../pg/decompress';
import { archiveName, type ArchiveName } from '../pg/pg-basebackup';
import { lastErrorLine, pipeTools, runTool, type ToolResult } from '../pg/run-tool';
import { rewriteTablespaceMap } from './settings';

export interface Extracted {
  archives: string[];
  tablespaces: { oid: string; folder: string }[];
}

function tarArgs(dir: string): string[] {
  // -x -f -: extract from stdin; -C: into dir; --no-same-owner: files belong to whoever extracts (chowned after);
  // --delay-directory-restore: a read-only directory in the archive does not stop its own members.
  return ['-x', '-f', '-', '-C', dir, '--no-same-owner', '--delay-directory-restore'];
}

function failure(what: string, r: ToolResult, tool: string): UserError | null {
  if (r.exitCode === 0) return null;
  const last = lastErrorLine(r.stderrTail, tool);
  if (/no space left/i.test(r.stderrTail)) return new UserError('DISK_FULL', `Extracting ${what} filled the destination's disk${last ? `: ${last}` : ''}.`, 'Free space there or choose another destination folder, then run the recovery again.');
  return new UserError('PITR_RECOVERY_FAILED', `Extracting ${what} failed (${tool}, exit ${r.exitCode ?? r.signal})${last ? `: ${last}` : ''}.`);
}

async function extractOne(storage: Storage, object: string, a: ArchiveName, dir: string, signal: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const source = await storage.get(object, { signal });
  if (a.compression === 'none') {
    const r = await runTool({ exe: 'tar', args: tarArgs(dir), stdin: source, stdout: 'ignore', signal });
    const e = failure(a.file, r, 'tar');
    if (e) throw e;
    return;
  }
  const d = decompressArgs(a.compression);
  const { producer, consumer } = pipeTools({ exe: d.exe, args: d.args, stdin: source, signal }, { exe: 'tar', args: tarArgs(dir), stdout: 'ignore', signal });
  const [p, c] = await Promise.all([producer, consumer]);
  // tar's own failure (a full disk) explains the decompressor's broken pipe, so it is told first.
  const e = failure(a.file, c, 'tar') ?? failure(a.file, p, d.exe);
  if (e) throw e;
}

export async function extractBaseBackup(o: { storage: Storage; folder: string; dataDir: string; tablespaceRoot: string; signal: AbortSignal; onArchive?: (file: string, i: number, n: number) => void }): Promise<Extracted> {
  const stored = (await o.storage.list(`${o.folder}/`)).map((x) => x.name.slice(o.folder.length + 1));
  const archives = stored.map(archiveName).filter((a): a is ArchiveName => a !== null);
  if (!archives.some((a) => a.kind === 'base')) throw new UserError('PITR_RECOVERY_FAILED', `The base backup ${o.folder} has no base.tar in storage.`);
  // base first: pg_wal and pg_tblspc are folders inside it.
  archives.sort((a, b) => (a.kind === 'base' ? -1 : b.kind === 'base' ? 1 : a.file.localeCompare(b.file)));
  const tablespaces: Extracted['tablespaces'] = [];
  for (const [i, a] of archives.entries()) {
    o.onArchive?.(a.file, i, archives.length);
    const dir = a.kind === 'base' ? o.dataDir : a.kind === 'wal' ? path.join(o.dataDir, 'pg_wal') : path.join(o.tablespaceRoot, a.oid!);
    await extractOne(o.storage, `${o.folder}/${a.file}`, a, dir, o.signal);
    if (a.kind === 'tablespace') tablespaces.push({ oid: a.oid!, folder: dir });
  }
  // Tablespaces: tablespace_map (which PostgreSQL reads at the start of recovery and makes the links from) and the
  // links themselves point at the extracted folders.
  const map = path.join(o.dataDir, 'tablespace_map');
  if (existsSync(map)) {
    const folders = new Map(tablespaces.map((t) => [t.oid, t.folder]));
    const text = await readFile(map, 'utf8');
    const unknown = [...text.matchAll(/^(\d+) /gm)].map((m) => m[1]!).filter((oid) => !folders.has(oid));
    if (unknown.length) throw new UserError('PITR_RECOVERY_FAILED', `The base backup's tablespace_map names tablespace ${unknown.join(', ')}, but no ${unknown[0]}.tar is stored beside base.tar.`);
    await writeFile(map, rewriteTablespaceMap(text, (oid) => folders.get(oid)!));
  }
  for (const t of tablespaces) {
    const link = path.join(o.dataDir, 'pg_tblspc', t.oid);
    await mkdir(path.dirname(link), { recursive: true, mode: 0o700 });
    // fs.rm does not follow a link: only the link (or an empty folder tar made) goes.
    await rm(link, { force: true, recursive: true });
    await symlink(t.folder, link);
  }
  // A standby.signal taken along from a standby would make the copy a standby that never promotes.
  await rm(path.join(o.dataDir, 'standby.signal'), { force: true });
  return { archives: archives.map((a) => a.file), tablespaces };
}
