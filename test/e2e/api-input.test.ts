// Hostile input on every route that takes an id or a name, against the built console: a number past 64 bits and a
// string with a NUL byte are answered 400 VALIDATION naming the field, never 500. Nothing here needs the ids to exist:
// the answer must come from validation, before any lookup.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiCall, signInCookie } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const base = inject('baseUrl');
const huge = '99999999999999999999999';
const nul = 'bad\u0000name';
let cookie = '';

beforeAll(async () => {
  cookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
});

const call = (method: string, path: string, body?: unknown) => apiCall(base, cookie, method, path, body);

const id = randomUUID();
const enc = encodeURIComponent;

/** [method, path, body, the field the answer must name]: one row per id or name a route takes, per hostile value. */
const cases: [string, string, unknown, string][] = [];
for (const v of [huge, nul]) {
  // Ids in the address.
  for (const [method, path] of [
    ['GET', '/api/backups/:id'],
    ['GET', '/api/backups/:id/download'],
    ['GET', '/api/targets/:id'],
    ['PATCH', '/api/targets/:id'],
    ['DELETE', '/api/targets/:id'],
    ['POST', '/api/targets/:id/test'],
    ['POST', '/api/targets/:id/backup'],
    ['POST', '/api/targets/:id/base-backup'],
    ['GET', '/api/targets/:id/trend'],
    ['GET', '/api/targets/:id/wal'],
    ['GET', '/api/targets/:id/window'],
    ['GET', '/api/targets/:id/restore-points'],
    ['POST', '/api/targets/:id/restore-points'],
    ['POST', '/api/targets/:id/drill'],
    ['GET', '/api/targets/:id/drills'],
    ['GET', '/api/targets/:id/copies'],
    ['POST', '/api/targets/:id/copies/drop'],
    ['POST', '/api/targets/:id/rollback'],
    ['POST', '/api/targets/:id/repair'],
    ['PATCH', '/api/schedules/:id'],
    ['DELETE', '/api/schedules/:id'],
    ['GET', '/api/jobs/:id'],
    ['POST', '/api/jobs/:id/cancel'],
    ['POST', '/api/jobs/:id/run-again'],
    ['POST', '/api/recoveries/:id/reinsert'],
    ['POST', '/api/recoveries/:id/discard'],
    ['POST', '/api/recoveries/:id/export'],
    ['GET', '/api/recoveries/exports/:id'],
    ['POST', '/api/restores/requests/:id'],
    ['PATCH', '/api/users/:id'],
  ] as const) {
    cases.push([method, path.replace(':id', enc(v)), ['GET', 'DELETE'].includes(method) ? undefined : {}, 'id']);
  }
  // Ids in the query and the body (every other field valid, so only the hostile one can be the problem).
  cases.push(['GET', `/api/audit?beforeId=${enc(v)}`, undefined, 'beforeId']);
  cases.push(['GET', `/api/backups?targetId=${enc(v)}`, undefined, 'targetId']);
  cases.push(['GET', `/api/backups?cursor=${enc(`2026-01-01T00:00:00.000Z_${v}`)}`, undefined, 'cursor']);
  cases.push(['GET', `/api/jobs/${id}?afterLogId=${enc(v)}`, undefined, 'afterLogId']);
  cases.push(['POST', `/api/uploads?targetId=${enc(v)}&database=db&fileName=f.dump`, undefined, 'targetId']);
  cases.push(['POST', '/api/schedules', { targetId: v, cron: '0 2 * * *', timezone: 'UTC' }, 'targetId']);
  cases.push(['POST', '/api/restores', { backupId: v, destination: { mode: 'drill' } }, 'backupId']);
  cases.push(['POST', '/api/restores/preflight', { backupId: v, destination: { mode: 'drill' } }, 'backupId']);
  cases.push(['POST', '/api/restores', { backupId: '1', destination: { mode: 'new', targetId: v, database: 'copy' } }, 'destination.targetId']);
  cases.push(['POST', '/api/recoveries', { backupId: v, tables: ['public.a'] }, 'backupId']);
}
// Names (a long run of digits is a fine name, so only the NUL byte is hostile here).
{
  const v = nul;
  const target = { name: 'hostile', host: '127.0.0.1', port: 5432, dbUser: 'postgres', password: null, sslMode: 'disable', database: 'app' };
  cases.push(['GET', `/api/audit?action=${enc(v)}`, undefined, 'action']);
  cases.push(['GET', `/api/jobs?kind=${enc(v)}`, undefined, 'kind']);
  cases.push(['GET', `/api/schedules/preview?timezone=${enc(v)}`, undefined, 'timezone']);
  cases.push(['POST', `/api/uploads?targetId=${id}&database=${enc(v)}&fileName=f.dump`, undefined, 'database']);
  cases.push(['POST', `/api/uploads?targetId=${id}&database=db&fileName=${enc(v)}`, undefined, 'fileName']);
  cases.push(['POST', '/api/targets', { ...target, name: v }, 'name']);
  cases.push(['POST', '/api/targets', { ...target, database: v }, 'database']);
  cases.push(['PATCH', `/api/targets/${id}`, { name: v }, 'name']);
  cases.push(['POST', '/api/restores', { backupId: '1', destination: { mode: 'new', targetId: id, database: v } }, 'destination.database']);
  cases.push(['POST', '/api/restores/preflight', { backupId: '1', destination: { mode: 'drill' }, tables: ['public.a', v] }, 'tables.1']);
  cases.push(['POST', '/api/recoveries', { backupId: '1', tables: [v] }, 'tables.0']);
  cases.push(['POST', `/api/recoveries/${id}/export`, { format: 'csv', table: v }, 'table']);
  cases.push(['POST', `/api/restores/requests/${id}`, { decision: 'refuse', reason: v }, 'reason']);
  cases.push(['POST', `/api/targets/${id}/copies/drop`, { database: v }, 'database']);
  cases.push(['POST', `/api/targets/${id}/rollback`, { keptDatabase: v }, 'keptDatabase']);
  cases.push(['POST', `/api/targets/${id}/restore-points`, { name: v }, 'name']);
  cases.push(['POST', '/api/storages', { name: v, kind: 'local', path: '/tmp/x' }, 'name']);
  cases.push(['POST', '/api/users', { email: 'hostile@e2e.test', name: v, role: 'viewer', password: 'long-enough-password' }, 'name']);
  cases.push(['PATCH', `/api/users/${id}`, { name: v }, 'name']);
  cases.push(['POST', '/api/jobs/ping', { message: v, seconds: 0 }, 'message']);
}

describe('a number past 64 bits or a NUL byte', () => {
  it.each(cases.map(([m, p, b, f]) => [`${m} ${p.replace(/\u0000/g, '\\0')} ${b ? JSON.stringify(b) : ''}`.trim(), m, p, b, f] as const))(
    '%s -> 400 VALIDATION naming the field',
    async (_name, method, path, body, field) => {
      const r = await call(method, path, body);
      expect({ status: r.status, code: r.json?.error?.code }, r.text).toEqual({ status: 400, code: 'VALIDATION' });
      expect(Object.keys(r.json.error.fields ?? {}), r.text).toContain(field);
    },
  );

  it('a NUL byte in an object key is named too', async () => {
    const r = await call('POST', '/api/jobs/ping', { message: 'hi', seconds: 0, ['k\u0000']: 1 });
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.code).toBe('VALIDATION');
    expect(Object.keys(r.json.error.fields)).toEqual(['k\\0']);
  });

  it('sign-in with a NUL byte in the email is the usual refusal, not a server error', async () => {
    const csrf = await fetch(`${base}/api/auth/csrf`);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const res = await fetch(`${base}/api/auth/callback/credentials`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') },
      body: new URLSearchParams({ csrfToken, email: `a${nul}@e2e.test`, password: 'whatever-password', json: 'true' }),
    });
    const { url } = (await res.json()) as { url: string };
    expect(new URL(url, base).searchParams.get('error')).toBe('Email or password is incorrect.');
  });
});

// The console's pages take ids from the address too: a bad one is the not-found page, never the error page.
describe('a page given an id past 64 bits or no number at all', () => {
  it.each([`/backups/${huge}`, `/restore?backupId=${huge}`, '/restore?backupId=not-a-number'])('%s -> 404, the not-found page', async (path) => {
    const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
    const text = await res.text();
    expect(res.status, text.slice(0, 2000)).toBe(404);
    expect(text).toContain('There is nothing here');
  });
});
