// lib/jobs/kinds.ts: the ping payload (defaults and bounds), expiry sizing, roles and queue names.
import { describe, expect, it } from 'vitest';
import { jobKindNames, jobKinds, queueName, roleToStart } from '../../../../lib/jobs/kinds';

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
