// A stored backup as a restore sees it: where it is, whether it is intact, and what its table of contents says.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { ToolError } from '../../lib/jobs/lifecycle';
import { defaultStoragePath, LocalStorage } from '../../lib/storage/local-storage';
import { parseToc } from '../pg/pg-restore';

export async function loadBackup(id: bigint) {
  const b = await getDb().backupLog.findUnique({ where: { id }, include: { storage: true, target: true } });
  if (!b) throw new UserError('NOT_FOUND', `There is no backup ${id}.`);
  if (b.status !== 'succeeded') throw new UserError('BACKUP_UNUSABLE', `Backup ${id} ${b.status}; only a succeeded backup can be restored.`);
  if (b.deletedAt) throw new UserError('BACKUP_UNUSABLE', `Backup ${id} was removed by retention on ${b.deletedAt.toISOString()}.`);
  const storage = new LocalStorage(b.storage?.path ?? b.location ?? defaultStoragePath());
  return { backup: b, path: storage.localPath(b.backupFile), storage };
}

async function sha256File(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The same checksum the backup recorded: the file's SHA-256, or for a folder the hash of its "sha256  file" list. */
export async function checksumOf(path: string, signal: AbortSignal): Promise<{ sha256: string; size: number }> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new UserError('BACKUP_FILE_MISSING', `The backup file ${path} is not there.`, 'Check the storage on the worker host; the file may have been moved or deleted by hand.');
  if (st.isFile()) return { sha256: await sha256File(path, signal), size: st.size };
  const lines: string[] = [];
  let size = 0;
  for (const name of (await readdir(path)).sort()) {
    lines.push(`${await sha256File(join(path, name), signal)}  ${name}\n`);
    size += (await stat(join(path, name))).size;
  }
  return { sha256: createHash('sha256').update(lines.join('')).digest('hex'), size };
}

/**
 * pg_restore --list of the archive (through zstd -dc for .zst files), and --list --verbose for the entries'
 * dependencies (which name each partition's parent). Both read the table of contents only.
 */
export async function readToc(path: string, format: string | null, pgRestore: string, signal: AbortSignal) {
  const opts = { cancelSignal: signal, reject: false } as const;
  const list = async (args: string[]) => {
    const res =
      format === 'custom-zstd'
        ? await execa('zstd', ['-dc', '-q', path], { ...opts, buffer: { stdout: false } }).pipe(pgRestore, args, opts)
        : await execa(pgRestore, [...args, path], opts);
    if (res.exitCode !== 0 || !String(res.stdout).includes('; Archive created at')) {
      throw new ToolError('BACKUP_UNREADABLE', 'pg_restore cannot read the archive: it is damaged or not a pg_dump archive.', String(res.stderr ?? '').slice(-4000));
    }
    return String(res.stdout);
  };
  const plain = await list(['--list']);
  return parseToc(plain, await list(['--list', '--verbose']));
}
