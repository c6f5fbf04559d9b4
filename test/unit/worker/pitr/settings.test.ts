// The recovery settings a recovered copy gets: exactly one recovery target, archiving off, its own port, loopback;
// restore_command through lifeboat-wal with this recovery's wal.conf; tablespace_map pointed at the copy's folders.
import { describe, expect, it } from 'vitest';
import { autoConfText, confQuote, lastFatalLine, recoverySettings, restoreCommand, rewriteTablespaceMap, walConfText } from '../../../../worker/pitr/settings';

describe('recovery settings', () => {
  const cmd = restoreCommand({ script: "/srv/rec/it's/lifeboat-wal", walConf: '/srv/rec/wal.conf' });

  it('quotes restore_command for sh and the value for postgresql.conf', () => {
    expect(cmd).toBe(`LIFEBOAT_WAL_CONFIG='/srv/rec/wal.conf' '/srv/rec/it'\\''s/lifeboat-wal' fetch %f %p`);
    expect(confQuote("a'b")).toBe("'a''b'");
    expect(walConfText({ root: '/srv/store', target: 'orders-prod' })).toMatch(/^root=\/srv\/store$\n^target=orders-prod$/m);
  });

  it('sets the chosen target and blanks every other one; promote, latest timeline, archiving off, own port', () => {
    const at = new Date('2026-12-07T16:00:00.000Z');
    const s = Object.fromEntries(recoverySettings({ target: { kind: 'time', at }, restoreCommand: cmd, port: 55433 }));
    expect(s).toMatchObject({
      restore_command: cmd,
      recovery_target_time: '2026-12-07 16:00:00.000+00',
      recovery_target_name: '',
      recovery_target_lsn: '',
      recovery_target_xid: '',
      recovery_target: '',
      recovery_target_timeline: 'latest',
      recovery_target_action: 'promote',
      port: '55433',
      listen_addresses: '127.0.0.1',
      archive_mode: 'off',
    });
    // The unused targets are blanked before the chosen one: PostgreSQL refuses a target set after another one.
    const names = recoverySettings({ target: { kind: 'time', at }, restoreCommand: cmd, port: 1 }).map(([k]) => k).filter((k) => /^recovery_target(_time|_name|_lsn|_xid)?$/.test(k));
    expect(names.at(-1)).toBe('recovery_target_time');
    expect(names).toHaveLength(5);
    expect(Object.fromEntries(recoverySettings({ target: { kind: 'name', name: 'x' }, restoreCommand: cmd, port: 1 })).recovery_target_name).toBe('x');
    expect(Object.fromEntries(recoverySettings({ target: { kind: 'lsn', lsn: '0/3000060' }, restoreCommand: cmd, port: 1 })).recovery_target_lsn).toBe('0/3000060');
    const latest = recoverySettings({ target: { kind: 'latest' }, restoreCommand: cmd, port: 1 });
    expect(latest.filter(([k, v]) => k.startsWith('recovery_target') && k !== 'recovery_target_timeline' && k !== 'recovery_target_action' && k !== 'recovery_target_inclusive' && v !== '')).toEqual([]);
    expect(autoConfText([['port', '5'], ['restore_command', "a'b"]])).toContain("\nport = '5'\nrestore_command = 'a''b'\n");
  });

  it('points tablespace_map at the extracted folders and reads the last FATAL line of a server log', () => {
    expect(rewriteTablespaceMap('16384 /var/lib/pg/ts one\n16390 /x\n', (oid) => `/rec/tablespaces/${oid}`)).toBe('16384 /rec/tablespaces/16384\n16390 /rec/tablespaces/16390\n');
    const log = '2026-12-07 LOG:  starting\n2026-12-07 16:00:01.1 UTC [9] FATAL:  recovery ended before configured recovery target was reached\n2026-12-07 LOG:  shut down\n';
    expect(lastFatalLine(log)).toBe('FATAL: recovery ended before configured recovery target was reached');
    expect(lastFatalLine('LOG: fine\n')).toBeNull();
  });
});
