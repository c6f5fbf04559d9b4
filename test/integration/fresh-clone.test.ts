// The README's first command on a fresh clone: `git clone` of the committed HEAD, the installed packages (as `npm ci`
// would leave them, but never a generated file), then `bash scripts/demo.sh` exactly as written until the sign-in
// page answers; Ctrl-C to its process group must leave no process of it behind. Builds the console in the clone (minutes).
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, root } from '../../scripts/lib/stack';
import { leftovers, leftoversAfterExit, stopDemos, waitForLine } from '../helpers/demo-processes';

type Demo = ResultPromise<{ detached: true; reject: false; all: true; buffer: false }> & { lines: string[] };

let tmp: string;
let clone: string;
let dataDir: string;
let webPort: number;
let demo: Demo | undefined;

const output = () => `\ndemo output:\n${(demo?.lines ?? []).slice(-60).join('\n')}`;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-fresh-clone-'));
  // mkdtemp makes 0700; the demo's cluster runs as the postgres OS user, which must pass through to the data folder.
  chmodSync(tmp, 0o711);
  clone = path.join(tmp, 'lifeboat');
  dataDir = path.join(tmp, 'data');
  webPort = await freePort();
  await execa('git', ['clone', '--quiet', root, clone]);
  // What `npm ci` leaves: the packages (hard links: fast, same file system) and a hidden lockfile written after the
  // checkout; nothing an earlier run generated in node_modules (caches).
  await execa('cp', ['-al', path.join(root, 'node_modules'), path.join(clone, 'node_modules')]);
  rmSync(path.join(clone, 'node_modules/.cache'), { recursive: true, force: true });
  const hiddenLock = path.join(clone, 'node_modules/.package-lock.json');
  unlinkSync(hiddenLock); // a hard link: copy, never touch, the original
  copyFileSync(path.join(root, 'node_modules/.package-lock.json'), hiddenLock);
}, 300_000);

afterAll(async () => {
  await stopDemos([demo], { dataDir, needles: [clone, dataDir], group: true });
  rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('a fresh clone', () => {
  it('has nothing generated before the demo runs', () => {
    expect(existsSync(path.join(clone, 'package.json'))).toBe(true);
    expect(existsSync(path.join(clone, 'lib/generated'))).toBe(false);
    expect(existsSync(path.join(clone, '.next'))).toBe(false);
    expect(existsSync(path.join(clone, 'node_modules/.cache'))).toBe(false);
  });

  it('runs `bash scripts/demo.sh` until the sign-in page and its public files are served, and Ctrl-C leaves no process', async () => {
    // A person's shell: none of the test runner's variables (NODE_ENV=test, VITEST_*), only the two the README names.
    const env: Record<string, string> = { LIFEBOAT_DATA_DIR: dataDir, LIFEBOAT_PORT: String(webPort) };
    for (const key of ['PATH', 'HOME', 'LANG', 'TERM', 'USER']) if (process.env[key]) env[key] = process.env[key]!;
    demo = execa('bash', ['scripts/demo.sh'], {
      cwd: clone,
      extendEnv: false,
      env,
      // Its own process group, as a terminal gives a foreground command: Ctrl-C goes to the whole group.
      detached: true,
      reject: false,
      all: true,
      buffer: false,
    }) as Demo;
    const d = demo;
    d.lines = [];
    let rest = '';
    d.all!.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      d.lines.push(...parts);
      if (process.env.LIFEBOAT_TEST_VERBOSE) for (const l of parts) console.log('[fresh-clone]', l);
    });

    const [, url] = await waitForLine(d, /^\s*Lifeboat is running at (http:\/\/\S+)\s*$/, 1_500_000, output);
    expect(url).toBe(`http://127.0.0.1:${webPort}`);

    const login = await fetch(`${url}/login`, { redirect: 'manual' });
    expect(login.status, output()).toBe(200);
    const html = await login.text();
    expect(html).toMatch(/<form[\s>]/);
    const inputs = html.match(/<input[^>]*>/g) ?? [];
    expect(inputs.some((i) => i.includes('name="email"') && i.includes('type="email"')), inputs.join('\n')).toBe(true);
    expect(inputs.some((i) => i.includes('name="password"') && i.includes('type="password"')), inputs.join('\n')).toBe(true);

    // public/: served to anyone, signed in or not.
    const robots = await fetch(`${url}/robots.txt`, { redirect: 'manual' });
    expect(robots.status).toBe(200);
    expect(await robots.text()).toMatch(/^User-agent: \*\nDisallow: \/$/m);
    for (const [file, type] of [
      ['/favicon.ico', 'image/x-icon'],
      ['/favicon.svg', 'image/svg+xml'],
      ['/apple-touch-icon.png', 'image/png'],
    ] as const) {
      const res = await fetch(`${url}${file}`, { redirect: 'manual' });
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toContain(type);
      const body = Buffer.from(await res.arrayBuffer());
      if (type === 'image/png') expect(body.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      if (type === 'image/x-icon') expect(body.subarray(0, 4).toString('hex')).toBe('00000100');
    }

    const running = leftovers([clone, dataDir]);
    expect(running.some((p) => p.includes('next-server') || p.includes('next/dist/bin/next')), running.join('\n')).toBe(true);
    expect(running.some((p) => p.includes('worker/main.ts')), running.join('\n')).toBe(true);
    expect(running.some((p) => p.includes(path.join(dataDir, 'pg'))), running.join('\n')).toBe(true);

    // Ctrl-C: SIGINT to the foreground process group.
    process.kill(-d.pid!, 'SIGINT');
    const result = await Promise.race([d, sleep(60_000).then(() => undefined)]);
    expect(result, `the demo did not exit within 60 s of Ctrl-C${output()}`).toBeDefined();
    expect(result!.exitCode, output()).toBe(0);
    expect(await leftoversAfterExit([clone, dataDir])).toEqual([]);
    await expect(fetch(`${url}/login`)).rejects.toThrow();
  }, 1_800_000);
});
