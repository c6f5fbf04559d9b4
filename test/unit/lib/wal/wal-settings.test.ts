// Which postgresql.conf line to change, from the settings a live check read; the lines and wal.conf for a target.
import { describe, expect, it } from 'vitest';
import { checkWalSettings, walConfigFor } from '@/lib/wal/wal-settings';

const good = {
  wal_level: { value: 'replica' },
  archive_mode: { value: 'on' },
  archive_command: { value: "LIFEBOAT_WAL_CONFIG=/etc/lifeboat/wal-orders.conf /usr/local/bin/lifeboat-wal push %p" },
  max_wal_senders: { value: '10' },
};

describe('checkWalSettings', () => {
  it('finds nothing to change on a server set up as docs/wal.md says (logical and always pass too)', () => {
    expect(checkWalSettings(good)).toEqual([]);
    expect(checkWalSettings({ ...good, wal_level: { value: 'logical' }, archive_mode: { value: 'always' }, archive_command: { value: '/opt/lifeboat-wal push %p' } })).toEqual([]);
  });
  it('names the line for wal_level too low and archiving off, with restart', () => {
    const p = checkWalSettings({ ...good, wal_level: { value: 'minimal' }, archive_mode: { value: 'off' } });
    expect(p.map((x) => [x.setting, x.found, x.line, x.apply])).toEqual([
      ['wal_level', 'minimal', 'wal_level = replica', 'restart'],
      ['archive_mode', 'off', 'archive_mode = on', 'restart'],
    ]);
  });
  it('names the archive_command line (reload) for an empty or foreign command', () => {
    for (const value of ['', 'cp %p /mnt/wal/%f']) {
      const [p, ...rest] = checkWalSettings({ ...good, archive_command: { value } });
      expect(rest).toEqual([]);
      expect(p).toMatchObject({ setting: 'archive_command', found: value, line: "archive_command = '/usr/local/bin/lifeboat-wal push %p'", apply: 'reload' });
    }
  });
  it('asks for max_wal_senders >= 2, says when a setting is unreadable, and when a change waits for a restart', () => {
    const p = checkWalSettings({ ...good, max_wal_senders: { value: '1' }, archive_command: { value: null }, wal_level: { value: 'replica', pendingRestart: true } });
    expect(p.map((x) => x.setting)).toEqual(['wal_level', 'archive_command', 'max_wal_senders']);
    expect(p[0]!.message).toMatch(/restarts/);
    expect(p[1]!.message).toMatch(/could not read archive_command/);
    expect(p[2]!.line).toBe('max_wal_senders = 10');
    expect(checkWalSettings({}).map((x) => x.setting)).toEqual(['wal_level', 'archive_mode', 'archive_command', 'max_wal_senders']);
  });
});

describe('walConfigFor', () => {
  it("puts the storage folder as root and the target's safeName as target", () => {
    const c = walConfigFor({ name: 'Orders prod' }, '/srv/lifeboat-storage/');
    expect(c.walConf).toContain('root=/srv/lifeboat-storage/\n');
    expect(c.walConf).toMatch(/\ntarget=Orders_prod-[0-9a-f]{8}\n/);
    expect(c.archiveFolder).toBe(`/srv/lifeboat-storage/${c.targetFolder}/_wal`);
    expect(c.postgresqlConf).toEqual(['wal_level = replica', 'archive_mode = on', "archive_command = '/usr/local/bin/lifeboat-wal push %p'", 'max_wal_senders = 10']);
    expect(walConfigFor({ name: 'orders-prod' }, '/srv/x').walConf).toContain('\ntarget=orders-prod\n');
  });
});
