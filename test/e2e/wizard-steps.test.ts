// The step bar both wizards share (components/ui/wizard-steps.tsx), in Chromium: a named list of numbered steps
// with the current one marked aria-current="step", on the restore page and on the recover page alike.
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiCall, launchBrowser, signInCookie, signInPage } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
let browser: Browser;
let adminCookie = '';
let targetId = '';

const api = (method: string, path: string, body?: unknown) => apiCall(base, adminCookie, method, path, body);

beforeAll(async () => {
  adminCookie = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
  // Both wizards need a target to show themselves; its connection does not matter here.
  const t = await api('POST', '/api/targets', {
    name: `steps-${Date.now()}`, host: '127.0.0.1', port: Number(new URL(databaseUrl).port), dbUser: 'postgres', password: null, sslMode: 'disable', database: 'postgres',
  });
  expect(t.status).toBe(200);
  targetId = t.json.target.id;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (!targetId) return;
  // The target goes once its connection test has ended, so the files after this one see no target of ours.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    for (let i = 0; i < 150; i++) {
      const { rows } = await db.query(`SELECT 1 FROM jobs WHERE target_id = $1 AND status IN ('queued','running')`, [targetId]);
      if (!rows.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await db.end();
  }
  const del = await api('DELETE', `/api/targets/${targetId}`);
  expect(del.status).toBe(200);
});

describe('the wizard step bar', () => {
  it.each([
    ['/restore', 'Restore steps', ['1. Backup', '2. Destination', '3. Options', '4. Preflight', '5. Confirm', '6. Restore']],
    ['/recover', 'Recovery steps', ['1. Backup', '2. Tables', '3. Compare', '4. Results']],
  ])('%s: the list "%s" numbers every step and marks the first as current', async (path, label, steps) => {
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    await signInPage(page, base, e2eUsers.operator.email, e2eUsers.operator.password);
    await page.goto(`${path}?targetId=${targetId}`);
    const bar = page.getByRole('list', { name: label });
    await bar.waitFor();
    const items = bar.getByRole('listitem');
    expect((await items.allTextContents()).map((s) => s.trim())).toEqual(steps);
    expect(await items.first().getAttribute('aria-current')).toBe('step');
    expect(await bar.locator('[aria-current]').count()).toBe(1);
    await context.close();
  });
});
