// The target page's "WAL archiving" card in the browser: a viewer, on a 390 px phone, sees the postgresql.conf lines
// and this target's wal.conf, and after the connection test that saving the target started, the lines to change on
// a server that does not archive (the harness cluster runs with archive_mode off) and the archive's state.
import { describe, expect, inject, it } from 'vitest';
import { signInPage } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';
import { useE2eTarget } from '../helpers/e2e-target';

const base = inject('baseUrl');
const t = useE2eTarget('wal-card');

describe('WAL archiving card', () => {
  it('a viewer sees the lines to install, this target’s wal.conf and which lines to change', async () => {
    const context = await t.browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await signInPage(page, base, e2eUsers.viewer.email, e2eUsers.viewer.password);
      await page.goto(`/targets/${t.targetId}`);
      const card = page.getByTestId('wal-card');
      await expect.poll(() => card.getByTestId('wal-postgresql-conf').textContent()).toContain("archive_command = '/usr/local/bin/lifeboat-wal push %p'");
      expect(await card.getByTestId('wal-conf').textContent()).toContain(`target=${t.name}\n`);
      // The harness cluster does not archive: the card names the lines, and what it takes for them to apply.
      const problems = card.getByTestId('wal-settings-problems');
      await expect.poll(() => problems.textContent()).toContain('archive_mode = on');
      const text = (await problems.textContent())!;
      expect(text).toContain("archive_command = '/usr/local/bin/lifeboat-wal push %p'");
      expect(text).toMatch(/restart the server/);
      expect(await card.getByTestId('wal-archive').textContent()).toMatch(/Nothing is archived in .*\/_wal\/\d+ yet\./);
      expect(await card.getByTestId('wal-archiver').textContent()).toMatch(/Archived by the server: 0 segments/);
      // Its own content stays inside the card on a phone: long paths and lines wrap or scroll within it. (The page
      // as a whole is wider than 390 px because of other cards; see the branch report.)
      const overflow = await card.evaluate((el) => {
        const right = el.getBoundingClientRect().right;
        return [...el.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > right + 1 && !e.closest('pre')).map((e) => (e.textContent ?? '').slice(0, 60));
      });
      expect(overflow).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
