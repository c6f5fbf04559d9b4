// The processes a demo run leaves, and the teardown of a test that started one (test/integration/demo.test.ts and
// fresh-clone.test.ts): Ctrl-C to what still runs, its PostgreSQL stopped properly, anything else killed by pid.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCluster } from '../../scripts/lib/cluster';

/**
 * Live processes (not zombies, not this one) that a needle names: in their command line, as their working folder
 * (or a folder above it: PostgreSQL's children show no path but run in the data folder), or as their
 * LIFEBOAT_DATA_DIR. One "<pid> (cwd <folder>): <command line>" each.
 */
export function leftovers(needles: string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      const cwd = readOr(() => readlinkSync(`/proc/${entry}/cwd`)); // exited, or a kernel thread
      const environ = readOr(() => readFileSync(`/proc/${entry}/environ`, 'utf8')); // not ours to read
      const hit = needles.some(
        (n) => cmdline.includes(n) || cwd === n || cwd.startsWith(`${n}/`) || environ.split('\0').some((kv) => kv === `LIFEBOAT_DATA_DIR=${n}`),
      );
      if (hit) found.push(`${entry} (cwd ${cwd}): ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}

/** leftovers(needles), asked again for up to 5 s while any are left: children may take a moment to be reaped. */
export async function leftoversAfterExit(needles: string[]): Promise<string[]> {
  let left = leftovers(needles);
  for (let i = 0; i < 20 && left.length; i++) {
    await sleep(250);
    left = leftovers(needles);
  }
  return left;
}

/** A started demo as execa returns it, with the lines it printed so far. */
type Running = PromiseLike<unknown> & { pid?: number; exitCode: number | null; signalCode: NodeJS.Signals | null };

/**
 * The afterAll of a demo test: SIGINT to each demo still running (to its process group when `group`, as Ctrl-C
 * does), up to 30 s each to exit; a PostgreSQL left running on <dataDir>/pg (a failed run) stopped properly, so it
 * leaves no shared memory behind; whatever else still runs from `needles` killed by pid.
 */
export async function stopDemos(demos: (Running | undefined)[], o: { dataDir: string; needles: string[]; group?: boolean }): Promise<void> {
  for (const d of demos) {
    if (!d || d.exitCode !== null || d.signalCode !== null) continue;
    try {
      process.kill(o.group ? -d.pid! : d.pid!, 'SIGINT');
    } catch {
      // gone
    }
    await Promise.race([Promise.resolve(d).catch(() => {}), sleep(30_000)]);
  }
  const pgDir = path.join(o.dataDir, 'pg');
  if (existsSync(path.join(pgDir, 'postmaster.pid'))) {
    const secrets = readOr(() => readFileSync(path.join(o.dataDir, 'secrets.env'), 'utf8'));
    const password = /^LIFEBOAT_PG_PASSWORD=(.*)$/m.exec(secrets)?.[1];
    const cluster = await startCluster({ dataDir: pgDir, password }).catch(() => undefined);
    await cluster?.stop('immediate').catch(() => {});
  }
  for (const line of leftovers(o.needles)) {
    try {
      process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/**
 * Waits for a line of the demo's output matching `re`; throws, with the demo's last lines (`output()`), when the
 * demo exits first or the time is up.
 */
export async function waitForLine(d: Running & { lines: string[] }, re: RegExp, timeoutMs: number, output: () => string): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void Promise.resolve(d).then(() => (exited = true));
  for (;;) {
    for (const l of d.lines) {
      const m = re.exec(l);
      if (m) return m;
    }
    if (exited) throw new Error(`the demo exited (code ${d.exitCode}) before printing ${re}${output()}`);
    if (Date.now() > deadline) throw new Error(`no line matching ${re} within ${timeoutMs / 1000} s${output()}`);
    await sleep(100);
  }
}
