// The target page's "Recoverable window" card in the browser, on a 390 px phone: with no base backup (the harness
// cluster does not archive) it says why there is no window; an operator creates a named restore point from the
// form and sees it listed with the position the server answered.
import { describe, expect, inject, it } from 'vitest';
import { signInPage } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';
import { useE2eTarget } from '../helpers/e2e-target';

const base = inject('baseUrl');
const t = useE2eTarget('window-card');

describe('Recoverable window card', () => {
  it('says why there is no window yet, and an operator creates a named restore point from it', async () => {
    const context = await t.browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await signInPage(page, base, e2eUsers.operator.email, e2eUsers.operator.password);
      await page.goto(`/targets/${t.targetId}`);
      const card = page.getByTestId('window-card');
      await expect.poll(() => card.getByTestId('window-none').textContent()).toMatch(/no kept, verified base backup/i);

      const point = `before release "${t.name.slice(-5)}"`;
      await card.getByTestId('restore-point-name').fill(point);
      await card.getByRole('button', { name: 'Create restore point' }).click();
      await expect.poll(() => card.getByTestId('restore-points').textContent().catch(() => ''), { timeout: 30_000 }).toContain(point);
      const { rows } = await t.db.query<{ lsn: string; created_by: string }>('SELECT lsn, created_by FROM restore_points WHERE target_id = $1 AND name = $2', [t.targetId, point]);
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
