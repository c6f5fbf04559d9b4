// Restore hooks are admin-only through the real API: a viewer or operator reading targets sees that hooks exist, never
// their text (a URL with a token, a command line); an admin sees and edits them. The target made here is deleted after.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signInCookie } from '../helpers/browser';
import { e2eUsers, type E2eRole } from '../helpers/e2e-users';

const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const run = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
const preHook = `https://app.internal/maintenance/on?token=pre-secret-${run}`;
const postHook = `/usr/local/bin/after-restore --token post-secret-${run}`;
const cookies = {} as Record<E2eRole, string>;
let db: pg.Client;
let targetId = '';

async function call(method: string, path: string, cookie: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json', origin: base } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

beforeAll(async () => {
  for (const role of ['viewer', 'operator', 'admin'] as const) cookies[role] = await signInCookie(base, e2eUsers[role].email, e2eUsers[role].password);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const r = await call('POST', '/api/targets', cookies.admin, {
    name: `hooks-${run}`,
    host: '127.0.0.1',
    port: Number(new URL(databaseUrl).port),
    dbUser: 'postgres',
    password: null,
    sslMode: 'disable',
    database: 'postgres',
    preRestoreHook: preHook,
    postRestoreHook: postHook,
  });
  expect(r.status, r.text).toBe(200);
  targetId = r.json.target.id;
});

afterAll(async () => {
  if (targetId) {
    // The connection test that the save started must end before the delete is allowed.
    for (let i = 0; i < 300; i++) {
      const { rows } = await db.query("SELECT 1 FROM jobs WHERE target_id = $1 AND status IN ('queued', 'running')", [targetId]);
      if (!rows.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const del = await call('DELETE', `/api/targets/${targetId}`, cookies.admin);
    expect(del.status, del.text).toBe(200);
  }
  await db?.end();
});

describe('restore hooks through the API', () => {
  for (const role of ['viewer', 'operator'] as const) {
    it(`a ${role} reads targets without the hooks' text, only that there are hooks`, async () => {
      const list = await call('GET', '/api/targets', cookies[role]);
      expect(list.status).toBe(200);
      const one = await call('GET', `/api/targets/${targetId}`, cookies[role]);
      expect(one.status).toBe(200);
      for (const text of [list.text, one.text]) {
        expect(text).not.toContain(`pre-secret-${run}`);
        expect(text).not.toContain(`post-secret-${run}`);
      }
      const listed = list.json.targets.find((t: { id: string }) => t.id === targetId);
      expect(Object.keys(listed)).not.toContain('preRestoreHook');
      expect(Object.keys(one.json.target)).not.toContain('postRestoreHook');
      expect(one.json.target.hasHooks).toEqual({ pre: true, post: true });
    });
  }

  it('an admin reads them and edits them', async () => {
    const one = await call('GET', `/api/targets/${targetId}`, cookies.admin);
    expect(one.json.target).toMatchObject({ preRestoreHook: preHook, postRestoreHook: postHook, hasHooks: { pre: true, post: true } });
    const list = await call('GET', '/api/targets', cookies.admin);
    expect(list.json.targets.find((t: { id: string }) => t.id === targetId)).toMatchObject({ preRestoreHook: preHook, postRestoreHook: postHook });
    const patched = await call('PATCH', `/api/targets/${targetId}`, cookies.admin, { postRestoreHook: null });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.target).toMatchObject({ preRestoreHook: preHook, postRestoreHook: null, hasHooks: { pre: true, post: false } });
  });
});
