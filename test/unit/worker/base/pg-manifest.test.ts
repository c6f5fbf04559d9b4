// worker/base/pg-manifest.ts on a backup_manifest and backup_label written by pg_basebackup 15.20: files, WAL
// range, the manifest's own checksum (and that one changed byte breaks it), the WAL segments a range needs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lsnToBigInt, parseBackupLabel, parsePgManifest, requiredWalSegments, walSegmentName } from '../../../../worker/base/pg-manifest';

const raw = readFileSync(new URL('./fixtures/backup_manifest-15', import.meta.url));
const label = readFileSync(new URL('./fixtures/backup_label-15', import.meta.url), 'utf8');
const MB16 = 16 * 1024 * 1024;

describe('parsePgManifest', () => {
  it('reads every file with its size and SHA-256, the WAL range, and checks Manifest-Checksum as PostgreSQL computed it', () => {
    const m = parsePgManifest(raw);
    expect(m.version).toBe(1);
    expect(m.files.size).toBe(968);
    expect(m.files.get('backup_label')).toEqual({ path: 'backup_label', size: 225, algorithm: 'SHA256', checksum: '4af6ad3bd5cb0857fbe0028af58add0062c91a0e6327ceb9f6e3bdca2e28b367' });
    expect(m.files.get('global/pg_control')!.size).toBe(8192);
    expect(m.walRanges).toEqual([{ timeline: 1, startLsn: '0/9000028', endLsn: '0/9000100' }]);
    expect(m.checksumOk).toBe(true);
  });
  it('one changed byte (a size) breaks the manifest checksum', () => {
    const text = raw.toString('utf8').replace('"Size": 225', '"Size": 226');
    expect(parsePgManifest(Buffer.from(text)).checksumOk).toBe(false);
  });
  it('refuses what is not a manifest, saying why', () => {
    expect(() => parsePgManifest(Buffer.from('{"Files": []}'))).toThrow(/lacks PostgreSQL-Backup-Manifest-Version/);
    expect(() => parsePgManifest(Buffer.from('PGDMP'))).toThrow(/not JSON/);
  });
  it('Encoded-Path (hex of a name that is not UTF-8 text in JSON) is decoded', () => {
    const doc = { 'PostgreSQL-Backup-Manifest-Version': 1, Files: [{ 'Encoded-Path': Buffer.from('base/1/x').toString('hex'), Size: 1 }], 'WAL-Ranges': [] };
    expect([...parsePgManifest(Buffer.from(JSON.stringify(doc))).files.keys()]).toEqual(['base/1/x']);
  });
});

describe('WAL segment names', () => {
  it('an LSN and its segment, as PostgreSQL names them', () => {
    expect(lsnToBigInt('0/9000028')).toBe(0x9000028n);
    expect(lsnToBigInt('1/D000000')).toBe((1n << 32n) + 0xd000000n);
    expect(walSegmentName(1, 0x9000028n, MB16)).toBe('000000010000000000000009');
    expect(walSegmentName(2, (1n << 32n) + 0x22000000n, MB16)).toBe('000000020000000100000022');
    expect(walSegmentName(1, 0x9000028n, 64 * 1024 * 1024)).toBe('000000010000000000000002');
  });
  it('a range needs every segment from its start to the byte before its end', () => {
    expect(requiredWalSegments([{ timeline: 1, startLsn: '0/9000028', endLsn: '0/9000100' }], MB16)).toEqual(['000000010000000000000009']);
    expect(requiredWalSegments([{ timeline: 1, startLsn: '0/9000028', endLsn: '0/B000000' }], MB16)).toEqual(['000000010000000000000009', '00000001000000000000000A']);
    expect(requiredWalSegments([{ timeline: 3, startLsn: '0/FF000028', endLsn: '1/00000100' }], MB16)).toEqual(['0000000300000000000000FF', '000000030000000100000000']);
  });
});

describe('parseBackupLabel', () => {
  it('start position, timeline, time and label from backup_label', () => {
    expect(parseBackupLabel(label)).toEqual({
      startLsn: '0/9000028',
      startTimeline: 1,
      checkpointLsn: '0/9000060',
      startTime: new Date('2026-12-07T21:01:15Z'),
      label: 'pg_basebackup base backup',
      method: 'streamed',
      from: 'primary',
    });
  });
  it('a time in a zone it cannot read is left out rather than guessed', () => {
    expect(parseBackupLabel(label.replace('UTC', 'CET')).startTime).toBeNull();
  });
});
