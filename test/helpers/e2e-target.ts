// One target of the e2e console for a browser test file: made by an admin through the API on the harness cluster
// (which saving starts a connection test for), a console-database client, a browser; all ended after the file.
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { apiCall, launchBrowser, signInCookie } from './browser';
import { e2eUsers } from './e2e-users';

export interface E2eTarget {
  name: string;
  targetId: string;
  db: pg.Client;
  browser: Browser;
}

/** Registers beforeAll/afterAll; the returned object is filled in by beforeAll. */
export function useE2eTarget(prefix: string): E2eTarget {
  const base = inject('baseUrl');
  const databaseUrl = inject('databaseUrl');
  const t = { name: `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`, targetId: '' } as E2eTarget;
  let admin = '';
  const targetIdle = async () => {
    for (let i = 0; i < 300; i++) {
      const { rows } = await t.db.query("SELECT 1 FROM jobs WHERE target_id = $1 AND status IN ('queued', 'running')", [t.targetId]);
      if (!rows.length) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the target’s jobs did not end in 60 s');
  };
  beforeAll(async () => {
    admin = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
    t.db = new pg.Client({ connectionString: databaseUrl });
    await t.db.connect();
    const r = await apiCall(base, admin, 'POST', '/api/targets', { name: t.name, host: '127.0.0.1', port: Number(new URL(databaseUrl).port), dbUser: 'postgres', password: null, sslMode: 'disable', database: 'postgres' });
    expect(r.status, r.text).toBe(200);
    t.targetId = r.json.target.id;
    await targetIdle();
    t.browser = await launchBrowser();
  });
  afterAll(async () => {
    await t.browser?.close();
    if (t.targetId) {
      await targetIdle().catch(() => {});
      await apiCall(base, admin, 'DELETE', `/api/targets/${t.targetId}`);
    }
    await t.db?.end();
  });
  return t;
}
