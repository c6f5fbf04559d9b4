// What a recovered copy is told, PostgreSQL 12+ style: recovery.signal plus settings appended to
// postgresql.auto.conf (read last, so they win over the production's own postgresql.conf copied with the backup).
// Pure: the task writes the text this returns.
import type { RecoveryTarget } from '../../lib/pitr/plan';

/** A value in postgresql.conf quotes: single quotes, a quote inside doubled. */
export function confQuote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A word for /bin/sh (PostgreSQL runs restore_command through it). */
export function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** wal.conf for lifeboat-wal fetch (docs/wal.md): the storage's folder and the target's folder name in it. */
export function walConfText(o: { root: string; target: string }): string {
  return `# Written by a Lifeboat point-in-time recovery: where this recovered copy fetches WAL from.\nroot=${o.root}\ntarget=${o.target}\n`;
}

/** restore_command: lifeboat-wal fetch with this recovery's own wal.conf. */
export function restoreCommand(o: { script: string; walConf: string }): string {
  return `LIFEBOAT_WAL_CONFIG=${shQuote(o.walConf)} ${shQuote(o.script)} fetch %f %p`;
}

/**
 * A time as recovery_target_time takes it: '2026-12-07 16:00:00.123+00'. The server parses it while reading its
 * configuration, before zone abbreviations are loaded, so ISO's 'Z' makes the file "contain errors".
 */
export function pgTimestamp(at: Date): string {
  return at.toISOString().replace('T', ' ').replace('Z', '+00');
}

const TARGET_SETTINGS = ['recovery_target', 'recovery_target_time', 'recovery_target_name', 'recovery_target_lsn', 'recovery_target_xid'] as const;

/**
 * The settings, in order. Every recovery_target_* is set, the unused ones to '' and before the chosen one, so one
 * the production's own configuration carried cannot add a second target (PostgreSQL applies them in this order and
 * refuses a target setting that comes after another one already set: "multiple recovery targets specified").
 * Archiving off: a recovered copy must never push into the production archive. No Unix socket, loopback only, its
 * own log, no external pid file of production's.
 */
export function recoverySettings(o: { target: RecoveryTarget; restoreCommand: string; port: number }): [string, string][] {
  const chosen: [string, string][] = [];
  if (o.target.kind === 'time') chosen.push(['recovery_target_time', pgTimestamp(o.target.at)]);
  if (o.target.kind === 'name') chosen.push(['recovery_target_name', o.target.name]);
  if (o.target.kind === 'lsn') chosen.push(['recovery_target_lsn', o.target.lsn]);
  return [
    ['restore_command', o.restoreCommand],
    ...TARGET_SETTINGS.filter((k) => !chosen.some(([c]) => c === k)).map((k): [string, string] => [k, '']),
    ...chosen,
    ['recovery_target_timeline', 'latest'],
    ['recovery_target_action', 'promote'],
    ['recovery_target_inclusive', 'on'],
    ['hot_standby', 'on'],
    ['port', String(o.port)],
    ['listen_addresses', '127.0.0.1'],
    ['unix_socket_directories', ''],
    ['archive_mode', 'off'],
    ['archive_command', ''],
    ['primary_conninfo', ''],
    ['primary_slot_name', ''],
    ['external_pid_file', ''],
    ['logging_collector', 'off'],
  ];
}

/** The lines appended to postgresql.auto.conf. */
export function autoConfText(settings: [string, string][]): string {
  return `\n# Lifeboat point-in-time recovery (these lines win over the ones above).\n${settings.map(([k, v]) => `${k} = ${confQuote(v)}`).join('\n')}\n`;
}

/** tablespace_map (oid, space, path per line) with each listed tablespace pointed at `folderOf(oid)`. */
export function rewriteTablespaceMap(text: string, folderOf: (oid: string) => string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\d+) /.exec(line);
      return m ? `${m[1]} ${folderOf(m[1]!)}` : line;
    })
    .join('\n');
}

/** The server log's last FATAL or PANIC line (why the server stopped), else null. */
export function lastFatalLine(log: string): string | null {
  const lines = log.split('\n').filter((l) => /\b(FATAL|PANIC):/.test(l));
  const line = lines.pop();
  return line ? line.replace(/^.*?\b(FATAL|PANIC):\s*/, '$1: ').trim() : null;
}

