// manifest: the JSON beside each artifact that lets a person (or a console with an empty catalog) understand and
// restore it without Lifeboat: sizes and checksums, tool and server versions, snapshot, key-table counts and
// fingerprints, TOC counts, database properties, and restore-by-hand lines. Stored last: with it the backup is complete.
import { workerHost } from '../../lib/jobs/sweep-jobs';
import type { DumpSettings } from '../pg/pg-dump';
import type { SnapshotFacts } from './snapshot';
import type { TocCounts } from './verify';

export interface ManifestInput {
  target: { name: string; host: string; port: number; dbUser: string };
  database: string;
  /** The artifact's name in storage (the manifest records its last part). */
  name: string;
  settings: DumpSettings;
  stored: { size: number; sha256: string; files?: { name: string; size: number; sha256: string }[] };
  serverVersion: string;
  toolVersion: string;
  started: Date;
  finished: Date;
  facts: SnapshotFacts;
  toc: TocCounts;
  globals: { name: string; sha256: string };
}

const base = (name: string) => name.split('/').pop()!;

export function buildManifest(m: ManifestInput) {
  return {
    lifeboat: 1,
    target: { name: m.target.name, host: m.target.host, port: m.target.port },
    database: m.database,
    file: base(m.name),
    format: m.settings.format,
    compression: m.settings.format === 'custom-zstd' ? `zstd -${m.settings.zstdLevel} (archive: pg_dump --compress=0)` : `pg_dump --compress=${m.settings.compressLevel}`,
    size: m.stored.size,
    sha256: m.stored.sha256,
    ...(m.stored.files ? { files: m.stored.files, sha256Of: 'the sorted "sha256  file" lines of files' } : {}),
    serverVersion: m.serverVersion,
    toolVersion: `pg_dump ${m.toolVersion}`,
    startedAt: m.started.toISOString(),
    finishedAt: m.finished.toISOString(),
    snapshot: m.facts.snapshot,
    keyTableCounts: m.facts.keyTableCounts,
    // Order-independent content fingerprints of the key tables (lib/backups/table-fingerprint.ts).
    keyTableChecksums: m.facts.keyTableChecksums,
    toc: m.toc,
    // Applied again on restore (owner, privileges, ALTER DATABASE/ROLE ... SET, comment); read in the dump's snapshot.
    databaseProperties: m.facts.databaseProperties,
    globals: { file: base(m.globals.name), sha256: m.globals.sha256 },
    worker: workerHost(),
    restoreByHand: restoreCommands(m.settings, base(m.name), m.database, { host: m.target.host, port: m.target.port, user: m.target.dbUser }),
  };
}

export function manifestText(manifest: object): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

const sh = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

/**
 * The manifest's "restore by hand" lines: a new database on the same (or another) server, never the live one.
 * createdb and the restore are one `&&` line, so a name that already exists stops everything before any restore;
 * `<new_database>` is left unquoted so that a line run without replacing it fails in the shell. Roles (the globals
 * file) are a comment: on a server that has them, running it resets their attributes and passwords.
 */
export function restoreCommands(s: DumpSettings, file: string, database: string, server: { host: string; port: number; user: string }): string[] {
  const conn = `-h ${sh(server.host)} -p ${server.port} -U ${sh(server.user)}`;
  const restore = `pg_restore ${conn} --dbname=<new_database> --no-password`;
  const load = s.format === 'custom-zstd' ? `zstd -d -c ${sh(file)} | ${restore}` : `${restore} --jobs=4 ${sh(file)}`;
  return [
    `# WARNING: these lines restore into a NEW database. Replace <new_database> with a name that does not exist on the server yet (never ${sh(database)}, the production database); nothing here writes to an existing database.`,
    `# Password: export PGPASSWORD='<password of ${server.user}>' first, or put it in ~/.pgpass; it is never written here.`,
    `# Roles and tablespaces, only on a server that lacks them (on one that has them this resets their attributes and passwords): psql ${conn} -d postgres -f ${sh(`${file}.globals.sql`)}`,
    `createdb ${conn} --no-password --template=template0 <new_database> && ${load}`,
  ];
}
