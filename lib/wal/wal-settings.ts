// What a target's postgresql.conf and /etc/lifeboat/wal.conf must say for lifeboat-wal (docs/wal.md), and which of
// those lines to change, from the settings a live check read back.
import { safeName } from '../targets/target-conn';
import { WAL_SETTINGS, type WalSettingName } from './wal-health-schema';

export { WAL_SETTINGS, type WalSettingName } from './wal-health-schema';

export const WAL_COMMAND = '/usr/local/bin/lifeboat-wal';
export const WAL_DOCS = 'docs/wal.md, section "Install on a database host (Debian or Ubuntu)"';

export interface WalSettingRead {
  /** null: the check could not read it. */
  value: string | null;
  /** Changed in the file but not in effect until a restart. */
  pendingRestart?: boolean;
}
export type WalSettingsRead = Partial<Record<WalSettingName, WalSettingRead>>;

export interface WalSettingProblem {
  setting: WalSettingName;
  found: string | null;
  /** The line to put in postgresql.conf. */
  line: string;
  /** What it takes for the change to apply. */
  apply: 'restart' | 'reload';
  message: string;
}

const LINES: Record<WalSettingName, string> = {
  wal_level: 'wal_level = replica',
  archive_mode: 'archive_mode = on',
  archive_command: `archive_command = '${WAL_COMMAND} push %p'`,
  max_wal_senders: 'max_wal_senders = 10',
};
// archive_command alone takes effect on reload (pg_reload_conf()); the others only at server start.
const APPLY: Record<WalSettingName, 'restart' | 'reload'> = { wal_level: 'restart', archive_mode: 'restart', archive_command: 'reload', max_wal_senders: 'restart' };

/** The lines for postgresql.conf and the content of wal.conf for a target whose storage folder is `storagePath`. */
export function walConfigFor(target: { name: string }, storagePath: string) {
  const folder = safeName(target.name);
  return {
    postgresqlConf: WAL_SETTINGS.map((s) => LINES[s]),
    walConf: `# The archive root: the folder of the local-folder storage (the same folder the worker reads).\nroot=${storagePath}\n# The target's folder name in that storage.\ntarget=${folder}\n`,
    targetFolder: folder,
    archiveFolder: `${storagePath.replace(/\/+$/, '')}/${folder}/_wal`,
    docs: WAL_DOCS,
  };
}

/** Each setting that stops archiving through lifeboat-wal (or a base backup), with the line that fixes it. */
export function checkWalSettings(read: WalSettingsRead): WalSettingProblem[] {
  const problems: WalSettingProblem[] = [];
  const add = (setting: WalSettingName, found: string | null, message: string) =>
    problems.push({ setting, found, line: LINES[setting], apply: APPLY[setting], message });
  for (const setting of WAL_SETTINGS) {
    const r = read[setting];
    const v = r?.value ?? null;
    if (v === null) {
      add(setting, null, `The check could not read ${setting}; check this line by hand.`);
      continue;
    }
    if (setting === 'wal_level' && v !== 'replica' && v !== 'logical') add(setting, v, `wal_level is "${v}": archived WAL cannot rebuild the server; it must be replica (or logical).`);
    else if (setting === 'archive_mode' && v !== 'on' && v !== 'always') add(setting, v, `archive_mode is "${v}": the server archives nothing.`);
    // The docs allow an environment prefix (LIFEBOAT_WAL_CONFIG=... for several clusters) and another install path.
    else if (setting === 'archive_command' && !/(^|[\s/])lifeboat-wal push %p\s*$/.test(v))
      add(setting, v, v === '' || v === '(disabled)' ? 'archive_command is empty: the server archives nothing.' : `archive_command is "${v}", not lifeboat-wal: segments do not reach Lifeboat's archive.`);
    // pg_basebackup streams the WAL it needs over a second connection beside the one that copies files.
    else if (setting === 'max_wal_senders' && !(Number(v) >= 2)) add(setting, v, `max_wal_senders is ${v}: a base backup needs 2 (one for files, one for WAL).`);
    else if (r?.pendingRestart) add(setting, v, `${setting} was changed in the file but is not in effect until the server restarts.`);
  }
  return problems;
}
