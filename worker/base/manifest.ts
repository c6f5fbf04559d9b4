// manifest: Lifeboat's JSON beside a base backup (<target>/_base/<label>.manifest.json), put last: with it the
// backup is complete. It says what the folder holds (sizes, SHA-256), the WAL range and timeline it needs, the
// server and tool, how it was verified, and the commands that restore it by hand with tar and plain PostgreSQL.
import { workerHost } from '../../lib/jobs/sweep-jobs';
import { archiveName, type BaseBackupSettings } from '../pg/pg-basebackup';
import type { BaseFacts } from './record';
import type { StoredBase } from './store';
import type { Verification } from './verify';

export interface BaseManifestInput {
  target: { name: string; host: string; port: number };
  label: string;
  settings: BaseBackupSettings;
  stored: StoredBase;
  facts: BaseFacts;
  systemIdentifier: string | null;
  serverVersion: string;
  toolVersion: string;
  started: Date;
  finished: Date;
  verification: Verification;
}

export function buildBaseManifest(m: BaseManifestInput) {
  return {
    lifeboat: 1,
    kind: 'base',
    target: m.target,
    label: m.label,
    folder: `${m.label}/`,
    format: 'tar',
    compression: m.settings.compression,
    walMethod: m.settings.walMethod,
    files: m.stored.files,
    size: m.stored.size,
    sha256: m.stored.sha256,
    sha256Of: 'the sorted "sha256  file" lines of files',
    startLsn: m.facts.startLsn,
    stopLsn: m.facts.stopLsn,
    timeline: m.facts.timeline,
    systemIdentifier: m.systemIdentifier,
    backupStartedAt: m.facts.backupStartedAt.toISOString(),
    backupStoppedAt: m.facts.backupStoppedAt.toISOString(),
    serverVersion: m.serverVersion,
    toolVersion: `pg_basebackup ${m.toolVersion}`,
    startedAt: m.started.toISOString(),
    finishedAt: m.finished.toISOString(),
    verification: m.verification,
    worker: workerHost(),
    restoreByHand: baseRestoreCommands(m.stored.files.map((f) => f.name), m.facts),
  };
}

const sh = (v: string) => `'${v.replaceAll("'", "'\\''")}'`;

/** The tar command that unpacks one archive into the folder its members belong in. */
function untar(file: string): string | null {
  const a = archiveName(file);
  if (!a) return null;
  const into = a.kind === 'base' ? '"$PGDATA"' : a.kind === 'wal' ? '"$PGDATA/pg_wal"' : `<location of tablespace ${a.oid}>`;
  const how = a.compression === 'zstd' ? `zstd -d -c ${sh(file)} | tar -x -C ${into}` : a.compression === 'lz4' ? `lz4 -d -c ${sh(file)} | tar -x -C ${into}` : a.compression === 'gzip' ? `tar -x -z -f ${sh(file)} -C ${into}` : `tar -x -f ${sh(file)} -C ${into}`;
  return how;
}

/**
 * Restoring by hand onto a NEW, empty data directory with plain PostgreSQL 12+ tools (never over a running server):
 * unpack base (and tablespaces, WAL), check it with pg_verifybackup, then start it; with WAL archived elsewhere, add
 * recovery settings first.
 */
export function baseRestoreCommands(files: string[], facts: Pick<BaseFacts, 'startLsn' | 'stopLsn' | 'timeline'>): string[] {
  const tars = files.filter((f) => archiveName(f)?.kind === 'base').concat(files.filter((f) => archiveName(f)?.kind === 'tablespace'), files.filter((f) => archiveName(f)?.kind === 'wal'));
  return [
    `# WARNING: restore into a NEW, empty data directory as the postgres OS user, never over a running server. Run these inside this backup's folder.`,
    `export PGDATA=<new empty data directory>; mkdir -p "$PGDATA" && chmod 700 "$PGDATA"`,
    ...tars.map(untar).filter((l): l is string => l !== null),
    `# Tablespaces: pg_tblspc/<oid> links are listed in "$PGDATA/tablespace_map"; make each location exist first (or edit the map).`,
    `cp backup_manifest "$PGDATA/" && pg_verifybackup --no-parse-wal "$PGDATA"`,
    `# The backup needs the WAL from ${facts.startLsn} to ${facts.stopLsn} on timeline ${facts.timeline} (in pg_wal after the steps above).`,
    `# To recover further from archived WAL: touch "$PGDATA/recovery.signal" and set restore_command (and a recovery_target_*) in "$PGDATA/postgresql.auto.conf".`,
    `pg_ctl -D "$PGDATA" -o '-p <free port>' start`,
  ];
}

export function baseManifestText(manifest: object): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}
