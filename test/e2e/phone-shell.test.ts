// The console on a 390 px phone (the DBA at 3 a.m.): the navigation is a bar across the top with a Menu button, so
// the page keeps the screen's whole width; on a desktop the sidebar stays and there is no Menu button.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, signInPage } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const base = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

describe('the console shell', () => {
  it('on a phone: the page has the screen\'s width, the menu opens from the top bar and closes on navigation', async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 390, height: 844 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await signInPage(page, base, e2eUsers.operator.email, e2eUsers.operator.password);
      await page.goto('/targets');
      const main = page.locator('main');
      await main.waitFor();
      // Before: the sidebar kept 224 px and left the page about 140 px.
      expect((await main.boundingBox())!.width).toBeGreaterThanOrEqual(380);
      const menu = page.getByTestId('main-menu');
      expect(await menu.isVisible()).toBe(false);
      await page.getByRole('button', { name: 'Menu' }).click();
      expect(await menu.isVisible()).toBe(true);
      await menu.getByRole('link', { name: 'Backups' }).click();
      await page.waitForURL('**/backups');
      await expect.poll(() => menu.isVisible()).toBe(false);
      // Nothing on the page is wider than the screen's own scroll width allows.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390 + 1);
    } finally {
      await context.close();
    }
  });

  it('on a desktop: the sidebar is there and there is no Menu button', async () => {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      await signInPage(page, base, e2eUsers.operator.email, e2eUsers.operator.password);
      await page.goto('/targets');
      await page.locator('main').waitFor();
      expect(await page.getByTestId('main-menu').isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Menu' }).isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  });
});
