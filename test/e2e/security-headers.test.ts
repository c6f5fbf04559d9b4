// Security headers on every answer of the built console (pages, API, 404s, redirects), and pages that still render
// and hydrate in Chromium under the Content-Security-Policy (no CSP violation, sign-in works).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, signInCookie } from '../helpers/browser';
import { e2eUsers } from '../helpers/e2e-users';

const base = inject('baseUrl');
let cookie = '';
let browser: Browser;

beforeAll(async () => {
  cookie = await signInCookie(base, e2eUsers.viewer.email, e2eUsers.viewer.password);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

function expectSecurityHeaders(res: Response, what: string) {
  const h = res.headers;
  expect(h.get('x-content-type-options'), what).toBe('nosniff');
  expect(h.get('referrer-policy'), what).toBe('same-origin');
  expect(h.get('x-frame-options'), what).toBe('DENY');
  const csp = h.get('content-security-policy');
  expect(csp, what).toBeTruthy();
  const d = directives(csp!);
  expect(d.get('frame-ancestors'), what).toEqual(["'none'"]);
  expect(d.get('default-src'), what).toEqual(["'self'"]);
  expect(d.get('object-src'), what).toEqual(["'none'"]);
  expect(d.get('base-uri'), what).toEqual(["'self'"]);
  // Scripts only with this answer's nonce (and what they load): never inline script or eval.
  const script = d.get('script-src') ?? [];
  expect(script, what).toContain("'strict-dynamic'");
  expect(script.some((s) => /^'nonce-[A-Za-z0-9+/=]{16,}'$/.test(s)), what).toBe(true);
  expect(script, what).not.toContain("'unsafe-inline'");
  expect(script, what).not.toContain("'unsafe-eval'");
  return script.find((s) => s.startsWith("'nonce-"))!.slice(7, -1);
}

describe('security headers', () => {
  const answers: [string, string, boolean][] = [
    ['the sign-in page', '/login', false],
    ['a console page', '/', true],
    ['a page that does not exist', '/no-such-page', true],
    ['a signed-out page (redirect to sign-in)', '/jobs', false],
    ['an API answer', '/api/me', true],
    ['an API refusal from the proxy', '/api/me', false],
    ['an API route that does not exist', '/api/no-such-route', true],
    ['the health endpoint', '/api/health', false],
    ["next-auth's own endpoint", '/api/auth/csrf', false],
  ];
  it.each(answers)('%s (%s) carries them', async (what, path, signedIn) => {
    const res = await fetch(`${base}${path}`, { redirect: 'manual', headers: signedIn ? { cookie } : {} });
    expect(res.status, what).toBeLessThan(500);
    expectSecurityHeaders(res, `${what}: ${path} -> ${res.status}`);
  });

  it('the nonce is new for every answer, and every script tag of a page carries it', async () => {
    const [a, b] = await Promise.all([fetch(`${base}/login`), fetch(`${base}/login`)]);
    const nonceA = expectSecurityHeaders(a, 'first');
    const nonceB = expectSecurityHeaders(b, 'second');
    expect(nonceA).not.toBe(nonceB);
    const html = await a.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonceA}"`);
  });

  it('static assets say nosniff too', async () => {
    const html = await (await fetch(`${base}/login`)).text();
    const src = /<script[^>]*src="([^"]+\.js)"/.exec(html)?.[1];
    expect(src).toBeTruthy();
    const res = await fetch(new URL(src!, base));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('pages under the CSP in Chromium', () => {
  it('sign-in hydrates and works, the overview renders, and the browser reports no CSP violation', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ baseURL: base });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (execute|load|apply)/i.test(m.text())) violations.push(m.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`Refused to execute: CSP ${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto('/login');
    await page.fill('input[name=email]', e2eUsers.admin.email);
    await page.fill('input[name=password]', e2eUsers.admin.password);
    // A client-side sign-in (fetch, then router navigation) works only when React hydrated.
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    await page.locator('nav[aria-label=Main]').waitFor();
    await page.goto('/jobs');
    await page.locator('nav[aria-label=Main]').waitFor();
    expect(violations).toEqual([]);
    await context.close();
  });
});
