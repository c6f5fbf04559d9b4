// lib/jobs/kinds.ts: the ping payload (defaults and bounds), expiry sizing, roles, queue names and result schemas.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { jobKindNames, jobKinds, jobResult, queueName, resultIssues, roleToStart } from '../../../../lib/jobs/kinds';

const ping = jobKinds.ping;

describe('ping payload', () => {
  it('fills defaults', () => {
    expect(ping.payload.parse({})).toEqual({ message: 'ping', seconds: 3, fail: false });
  });

  it('trims the message and drops unknown fields', () => {
    expect(ping.payload.parse({ message: '  hello  ', seconds: 0, fail: true, extra: 'x' })).toEqual({ message: 'hello', seconds: 0, fail: true });
  });

  it.each([
    ['seconds 0', { seconds: 0 }],
    ['seconds 300', { seconds: 300 }],
    ['a 200-character message', { message: 'm'.repeat(200) }],
  ])('accepts the bound %s', (_what, payload) => {
    expect(ping.payload.safeParse(payload).success).toBe(true);
  });

  it.each([
    ['seconds -1', { seconds: -1 }, 'seconds'],
    ['seconds 301', { seconds: 301 }, 'seconds'],
    ['fractional seconds', { seconds: 1.5 }, 'seconds'],
    ['seconds as a string', { seconds: '5' }, 'seconds'],
    ['a blank message', { message: '   ' }, 'message'],
    ['a 201-character message', { message: 'm'.repeat(201) }, 'message'],
    ['fail as a string', { fail: 'yes' }, 'fail'],
  ])('refuses %s, naming the field', (_what, payload, field) => {
    const r = ping.payload.safeParse(payload);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual([field]);
  });

  it('refuses a payload that is not an object', () => {
    for (const p of [null, 'ping', 3, []]) expect(ping.payload.safeParse(p).success).toBe(false);
  });
});

describe('job kinds', () => {
  it('ping needs the operator role and expires a minute after its own length', () => {
    expect(ping.role).toBe('operator');
    expect(ping.expireInSeconds(ping.payload.parse({ seconds: 0 }))).toBe(60);
    expect(ping.expireInSeconds(ping.payload.parse({ seconds: 300 }))).toBe(360);
  });

  it('lists every kind by name', () => {
    expect(jobKindNames).toEqual(Object.keys(jobKinds));
    expect(jobKindNames).toContain('ping');
  });

  it('names a queue <kind>.<pool>, pool "default" unless given', () => {
    expect(queueName('ping')).toBe('ping.default');
    expect(queueName('ping', 'db-host-1')).toBe('ping.db-host-1');
  });
});

describe('roleToStart (who may start, and so cancel, a job)', () => {
  it('needs admin for a restore that replaces production, whatever the method; operator for a new database or a drill', () => {
    expect(roleToStart('restore', { destination: { mode: 'replace', method: 'in-place' } })).toBe('admin');
    expect(roleToStart('restore', { destination: { mode: 'replace', method: 'swap' } })).toBe('admin');
    expect(roleToStart('restore', { destination: { mode: 'new', targetId: 'x', database: 'y' } })).toBe('operator');
    expect(roleToStart('restore', { destination: { mode: 'drill' } })).toBe('operator');
  });

  it('takes the strictest role for a payload or kind it does not recognise', () => {
    expect(roleToStart('restore', null)).toBe('admin');
    expect(roleToStart('restore', { destination: { mode: 'elsewhere' } })).toBe('admin');
    expect(roleToStart('no-such-kind', {})).toBe('admin');
  });

  it("follows the kind's role otherwise (a preflight touches nothing)", () => {
    expect(roleToStart('restore-preflight', { destination: { mode: 'replace', method: 'in-place' } })).toBe('operator');
    expect(roleToStart('repair', {})).toBe('admin');
    expect(roleToStart('backup', {})).toBe('operator');
    expect(roleToStart('ping', {})).toBe('operator');
  });
});

describe('time limits (computed once at enqueue from the environment, stored on the job row)', () => {
  const none = {};
  it('sizes backups, restores and repairs from their variables, six hours when unset', () => {
    expect(jobKinds.backup.expireInSeconds({ targetId: 'x' }, none)).toBe(21600);
    expect(jobKinds.backup.expireInSeconds({ targetId: 'x' }, { LIFEBOAT_BACKUP_TIMEOUT_SECONDS: 7200 })).toBe(7200);
    const restore = jobKinds.restore.payload.parse({ backupId: '1', destination: { mode: 'drill' } });
    expect(jobKinds.restore.expireInSeconds(restore, { LIFEBOAT_RESTORE_TIMEOUT_SECONDS: 900 })).toBe(900);
    expect(jobKinds.drill.expireInSeconds({ targetId: 'x' }, { LIFEBOAT_RESTORE_TIMEOUT_SECONDS: 900 })).toBe(900);
    expect(jobKinds['recover-compare'].expireInSeconds({ backupId: '1', tables: ['a.b'] }, { LIFEBOAT_RESTORE_TIMEOUT_SECONDS: 900 })).toBe(900);
    const repair = jobKinds.repair.payload.parse({ targetId: '6f1c0b7e-2a4d-4c1b-9b3e-0a2f4e5d6c7b', database: 'app' });
    expect(jobKinds.repair.expireInSeconds(repair, none)).toBe(21600);
    // The repair has its own variable now (it used to be read from process.env outside lib/env.ts).
    expect(jobKinds.repair.expireInSeconds(repair, { LIFEBOAT_REPAIR_TIMEOUT_SECONDS: 600, LIFEBOAT_RESTORE_TIMEOUT_SECONDS: 900 })).toBe(600);
  });

  it('never reads process.env itself', () => {
    vi.stubEnv('LIFEBOAT_BACKUP_TIMEOUT_SECONDS', '61');
    try {
      expect(jobKinds.backup.expireInSeconds({ targetId: 'x' }, none)).toBe(21600);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('result schemas', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every kind has one', () => {
    for (const kind of jobKindNames) expect(typeof jobKinds[kind].result.safeParse, kind).toBe('function');
  });

  const restoreResult = {
    mode: 'replace',
    method: 'swap',
    target: 'prod',
    database: 'app',
    backupId: '12',
    restoreMs: 1500,
    checks: [{ name: 'rows in core.users', expected: 2000, actual: 2000, ok: true }],
    checksOk: true,
    checksRan: 1,
    checksNotRun: [],
    databaseProperties: { applied: true, skipped: [] },
    keptCopy: 'app_before_restore_20261207t180000z',
    keptCopySize: 123456,
    downtimeMs: 80,
    connectionsEnded: 0,
    durationMs: 2100,
  };

  it('accepts what the tasks return, as stored (JSON)', () => {
    expect(resultIssues('ping', { reply: 'pong: x', host: 'h', pid: 1, elapsedMs: 3 })).toEqual([]);
    expect(resultIssues('restore', restoreResult)).toEqual([]);
    // A restore into a new database: no method, no kept copy, properties not recorded in an older backup.
    expect(resultIssues('restore', { ...restoreResult, mode: 'new', method: null, keptCopy: undefined, keptCopySize: undefined, downtimeMs: undefined, connectionsEnded: undefined, databaseProperties: { applied: false, reason: 'not recorded' } })).toEqual([]);
    expect(resultIssues('drill', { ...restoreResult, mode: 'drill', method: null, drillId: 'd' })).toEqual([]);
    expect(resultIssues('backup', { backups: [{ id: '7', database: 'app', size: 10, file: 'prod/app/x.dump' }], failed: [] })).toEqual([]);
  });

  it('names each field that does not match', () => {
    expect(resultIssues('ping', { reply: 'pong', host: 'h', pid: '1' })).toEqual([expect.stringMatching(/^pid: /), expect.stringMatching(/^elapsedMs: /)]);
    expect(resultIssues('restore', { ...restoreResult, checks: [{ name: 'x', expected: 1, actual: 1 }] })).toEqual([expect.stringMatching(/^checks\.0\.ok: /)]);
    expect(resultIssues('drill', restoreResult)).toEqual([expect.stringMatching(/^drillId: /)]);
    expect(resultIssues('backup', undefined)).toEqual([expect.stringMatching(/^result: /)]);
  });

  it('jobResult: the typed result for a page, null (logged) when absent or not matching', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(jobResult('restore', restoreResult)?.checks[0]?.ok).toBe(true);
    expect(jobResult('restore', null)).toBeNull();
    expect(spy).not.toHaveBeenCalled();
    expect(jobResult('restore', { ...restoreResult, checksOk: 'yes' })).toBeNull();
    expect(spy).toHaveBeenCalledTimes(1);
  });
});
