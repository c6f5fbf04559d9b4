// The target page's "Recoverable window" card in the browser, on a 390 px phone: with no base backup (the harness
// cluster does not archive) it says why there is no window; an operator creates a named restore point from the
// form and sees it listed with the position the server answered.
import pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiCall, launchBrowser, signInCookie, signInPage } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const base = inject('baseUrl');
const databaseUrl = inject('databaseUrl');
const name = `window-card-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
let admin = '';
let db: pg.Client;
let browser: Browser;
let targetId = '';

async function targetIdle() {
  for (let i = 0; i < 300; i++) {
    const { rows } = await db.query("SELECT 1 FROM jobs WHERE target_id = $1 AND status IN ('queued', 'running')", [targetId]);
    if (!rows.length) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the target’s jobs did not end in 60 s');
}

beforeAll(async () => {
  admin = await signInCookie(base, e2eUsers.admin.email, e2eUsers.admin.password);
  db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const r = await apiCall(base, admin, 'POST', '/api/targets', { name, host: '127.0.0.1', port: Number(new URL(databaseUrl).port), dbUser: 'postgres', password: null, sslMode: 'disable', database: 'postgres' });
  expect(r.status, r.text).toBe(200);
  targetId = r.json.target.id;
  await targetIdle();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (targetId) {
    await targetIdle().catch(() => {});
    await apiCall(base, admin, 'DELETE', `/api/targets/${targetId}`);
  }
  await db?.end();
});

describe('Recoverable window card', () => {
  it('says why there is no window yet, and an operator creates a named restore point from it', async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await signInPage(page, base, e2eUsers.operator.email, e2eUsers.operator.password);
      await page.goto(`/targets/${targetId}`);
      const card = page.getByTestId('window-card');
      await expect.poll(() => card.getByTestId('window-none').textContent()).toMatch(/no kept, verified base backup/i);

      const point = `before release "${name.slice(-5)}"`;
      await card.getByTestId('restore-point-name').fill(point);
      await card.getByRole('button', { name: 'Create restore point' }).click();
      await expect.poll(() => card.getByTestId('restore-points').textContent().catch(() => ''), { timeout: 30_000 }).toContain(point);
      const { rows } = await db.query<{ lsn: string; created_by: string }>('SELECT lsn, created_by FROM restore_points WHERE target_id = $1 AND name = $2', [targetId, point]);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.created_by).toBe(e2eUsers.operator.email);
      expect(await card.getByTestId('restore-points').textContent()).toContain(rows[0]!.lsn);

      // Its content stays inside the card on a phone.
      const overflow = await card.evaluate((el) => {
        const right = el.getBoundingClientRect().right;
        return [...el.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > right + 1).map((e) => (e.textContent ?? '').slice(0, 60));
      });
      expect(overflow).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
