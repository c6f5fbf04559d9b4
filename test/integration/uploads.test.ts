// Uploading a dump for the day the catalog is gone: stored and checked by a worker, offered as a backup, restorable;
// anything that is not a pg_dump archive is refused and leaves nothing behind.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sql } from '../helpers/db';
import { execa } from 'execa';
import { listFiles, pgEnv, tableChecksums } from '../helpers/backups';
import { restoreAndWait, why, useProtectedTarget } from '../helpers/restores';
import { storeUpload } from '../../lib/uploads/store-upload';
import { UserError } from '../../lib/errors';


const fx = useProtectedTarget('lifeboat_uploads', { seed: 'eitherway' }, { name: 'prod', database: 'eitherway' });

async function expectRefused(fileName: string, bytes: Buffer, message: RegExp) {
  const before = await sql(fx.stack.url, "SELECT id FROM backup_log WHERE backup_type = 'uploaded'");
  const filesBefore = listFiles(fx.storageDir);
  const up = await storeUpload(fx.stack.admin, { targetId: fx.targetId, database: 'eitherway', fileName }, [bytes], null);
  const job = await fx.stack.waitJob(up.job.id, undefined, 30_000, fx.worker);
  expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('failed');
  expect(job.error_code).toBe('BACKUP_UNREADABLE');
  expect(job.error_message).toMatch(message);
  expect(await sql(fx.stack.url, "SELECT id FROM backup_log WHERE backup_type = 'uploaded'")).toEqual(before);
  expect(await sql(fx.stack.url, 'SELECT 1 FROM uploads')).toEqual([]);
  expect(listFiles(fx.storageDir)).toEqual(filesBefore);
}

describe('uploaded dumps', () => {
  it('an uploaded dump is stored, checked, registered as a backup, and restores to the same data', async () => {
    const file = path.join(fx.storageDir, fx.backup.backup_file);
    const original = createHash('sha256').update(readFileSync(file)).digest('hex');
    const up = await storeUpload(fx.stack.admin, { targetId: fx.targetId, database: 'eitherway', fileName: 'nightly.dump.zst' }, createReadStream(file, { highWaterMark: 16 * 1024 }), null);
    expect(up.sha256).toBe(original);
    const job = await fx.stack.waitJob(up.job.id, undefined, 30_000, fx.worker);
    expect(job.status, why(job)).toBe('succeeded');
    const id = (job.result as { backupId: string }).backupId;
    const [row] = await sql<{ backup_type: string; checksum_sha256: string; format: string; status: string }>(fx.stack.url, 'SELECT backup_type, checksum_sha256, format, status FROM backup_log WHERE id = $1', [id]);
    expect(row).toEqual({ backup_type: 'uploaded', checksum_sha256: original, format: 'custom-zstd', status: 'succeeded' });
    expect(await sql(fx.stack.url, 'SELECT 1 FROM upload_chunks')).toEqual([]);
    const restored = await restoreAndWait(fx.stack, fx.worker, fx.stack.operator, id, { mode: 'new', targetId: fx.targetId, database: 'from_upload' });
    expect(restored.status, why(restored)).toBe('succeeded');
    expect(await tableChecksums(fx.cluster.url('from_upload'))).toEqual(await tableChecksums(fx.cluster.url('eitherway')));
    const [audit] = await sql<{ n: number }>(fx.stack.url, "SELECT count(*)::int AS n FROM audit_log WHERE action = 'backup.upload'");
    expect(audit!.n).toBe(1);
  }, 60_000);

  it('an uploaded dump gets its manifest in storage, put after the dump, the same object as the catalog row holds', async () => {
    const dump = path.join(fx.storageDir, fx.backup.backup_file);
    const up = await storeUpload(fx.stack.admin, { targetId: fx.targetId, database: 'eitherway', fileName: "old shop's.dump.zst" }, createReadStream(dump), null);
    const job = await fx.stack.waitJob(up.job.id, undefined, 30_000, fx.worker);
    expect(job.status, why(job)).toBe('succeeded');
    const [row] = await sql<{ backup_file: string; checksum_sha256: string; backup_size: string; manifest: Record<string, unknown> }>(
      fx.stack.url,
      'SELECT backup_file, checksum_sha256, backup_size, manifest FROM backup_log WHERE id = $1',
      [(job.result as { backupId: string }).backupId],
    );
    const stored = path.join(fx.storageDir, row!.backup_file);
    const manifestFile = `${stored}.manifest.json`;
    expect(listFiles(fx.storageDir).filter((f) => f.startsWith(row!.backup_file))).toEqual([row!.backup_file, `${row!.backup_file}.manifest.json`]);
    const text = readFileSync(manifestFile, 'utf8');
    const manifest = JSON.parse(text) as Record<string, unknown>;
    expect(text).toBe(`${JSON.stringify(manifest, null, 2)}\n`);
    expect(manifest).toEqual(row!.manifest);
    expect(manifest).toMatchObject({
      lifeboat: 1,
      kind: 'uploaded',
      uploaded: true,
      target: { name: 'prod' },
      database: 'eitherway',
      file: path.basename(row!.backup_file),
      format: 'custom-zstd',
      size: Number(row!.backup_size),
      sha256: createHash('sha256').update(readFileSync(stored)).digest('hex'),
      fileName: "old shop's.dump.zst",
      uploadedBy: fx.stack.admin.email,
      globals: null,
      toc: { entries: expect.any(Number), tableData: expect.any(Number) },
    });
    expect(manifest.sha256).toBe(row!.checksum_sha256);
    expect(manifest.toolVersion).toMatch(/^pg_dump \d+/);
    const toc = manifest.toc as { entries: number; tableData: number };
    expect(toc.tableData).toBeGreaterThan(0);
    expect(toc.entries).toBeGreaterThan(toc.tableData);
    expect((manifest.archive as { tables: string[] }).tables.length).toBeGreaterThan(0);
    expect(manifest.restoreByHand).toContainEqual(expect.stringContaining(`zstd -d -c '${path.basename(row!.backup_file)}' | pg_restore`));
    // Put last: it is never older than the dump it describes.
    expect(statSync(manifestFile).mtimeMs).toBeGreaterThanOrEqual(statSync(stored).mtimeMs);
  }, 60_000);

  it('a file that is not a pg_dump archive is refused with BACKUP_UNREADABLE and leaves no backup, file or chunks', async () => {
    const before = await sql(fx.stack.url, "SELECT id FROM backup_log WHERE backup_type = 'uploaded'");
    const up = await storeUpload(fx.stack.admin, { targetId: fx.targetId, database: 'eitherway', fileName: 'notes.txt' }, [Buffer.from('SELECT 1; -- a plain SQL file\n')], null);
    const job = await fx.stack.waitJob(up.job.id, undefined, 30_000, fx.worker);
    expect(job.status).toBe('failed');
    expect(job.error_code).toBe('BACKUP_UNREADABLE');
    expect(await sql(fx.stack.url, "SELECT id FROM backup_log WHERE backup_type = 'uploaded'")).toEqual(before);
    expect(await sql(fx.stack.url, 'SELECT 1 FROM uploads')).toEqual([]);
  }, 30_000);

  it('the first half of a pg_dump -Fc file is refused with BACKUP_UNREADABLE (its TOC reads fine) and leaves nothing', async () => {
    const file = path.join(fx.stack.tempDir('lifeboat-fc-'), 'full.dump');
    await execa('pg_dump', ['--format=custom', `--file=${file}`], { env: { ...process.env, ...pgEnv(fx.cluster), PGDATABASE: 'eitherway' } });
    const whole = readFileSync(file);
    const half = whole.subarray(0, Math.floor(whole.length / 2));
    // pg_restore --list alone is satisfied by the half: the bug this guards against.
    const listed = await execa('pg_restore', ['--list'], { input: half, reject: false });
    expect(listed.exitCode).toBe(0);
    await expectRefused('half.dump', half, /half\.dump is incomplete or damaged/);
  }, 60_000);

  it('a truncated .zst of a good backup is refused with BACKUP_UNREADABLE and leaves nothing', async () => {
    const whole = readFileSync(path.join(fx.storageDir, fx.backup.backup_file));
    await expectRefused('cut.dump.zst', whole.subarray(0, Math.floor(whole.length * 0.6)), /zstd cannot decode it/);
  }, 60_000);

  it('an empty upload is refused at once', async () => {
    const err = await storeUpload(fx.stack.admin, { targetId: fx.targetId, database: 'eitherway', fileName: 'empty.dump' }, [], null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('VALIDATION');
    expect(await sql(fx.stack.url, 'SELECT 1 FROM uploads')).toEqual([]);
  });
});
