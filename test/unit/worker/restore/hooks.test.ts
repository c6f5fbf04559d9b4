// worker/restore/hooks.ts: a hook command's argv (env -i, setpriv as nobody when root, timeout), and real runs
// through runTool: only the hook's own variables, its output as one text, and the time limit ending it whole.
import { afterEach, describe, expect, it } from 'vitest';
import { hookCommand, hookEnv, runHook } from '../../../../worker/restore/hooks';

const info = { target: 'shop', database: 'shop db' };
const signal = new AbortController().signal;

describe('hookCommand', () => {
  it('as the worker: env -i with exactly the given variables, then timeout and sh -c', () => {
    expect(hookCommand('echo hi', 3000, { PATH: '/bin', LIFEBOAT_DATABASE: 'shop db' }, undefined)).toEqual({
      exe: '/usr/bin/env',
      args: ['-i', 'PATH=/bin', 'LIFEBOAT_DATABASE=shop db', 'timeout', '--kill-after=1', '3', '/bin/sh', '-c', 'echo hi'],
    });
  });

  it('as root: setpriv drops to the given user and group, and every supplementary group, before timeout', () => {
    const { args } = hookCommand('x', 120_000, {}, { uid: 65534, gid: 65534 });
    expect(args).toEqual(['-i', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--', 'timeout', '--kill-after=1', '120', '/bin/sh', '-c', 'x']);
  });

  it('the hook line is one argument, never split or quoted by a shell of ours', () => {
    const line = `psql -c "select 1"; echo 'a b' | tr a b`;
    expect(hookCommand(line, 1000, {}, undefined).args.at(-1)).toBe(line);
  });
});

describe('runHook', () => {
  afterEach(() => {
    delete process.env.LIFEBOAT_HOOK_TIMEOUT_SECONDS;
  });

  it('sees only its own variables, runs as a non-root user, and returns stdout and stderr as one text', async () => {
    process.env.SOME_WORKER_SECRET = 'leak';
    try {
      const r = await runHook('env | sort; echo to-stderr >&2; id -u', 'pre-restore', info, signal);
      const lines = r!.output.trim().split('\n');
      const vars = lines.filter((l) => l.includes('=')).map((l) => l.split('=')[0]!);
      // The shell adds its own (PWD, SHLVL); nothing comes from the worker's environment.
      const own = [...Object.keys(hookEnv('pre-restore', info)), 'PWD', 'OLDPWD', 'SHLVL', '_'];
      expect(vars.filter((v) => !own.includes(v))).toEqual([]);
      expect(vars).toEqual(expect.arrayContaining(Object.keys(hookEnv('pre-restore', info))));
      expect(r!.output).toContain('LIFEBOAT_DATABASE=shop db');
      expect(r!.output).not.toContain('SOME_WORKER_SECRET');
      expect(r!.output).toContain('to-stderr');
      // id -u's line (stdout and stderr are two pipes: under load stderr's line may come after it).
      const uid = lines.find((l) => /^\d+$/.test(l));
      expect(uid).toBeDefined();
      expect(uid).not.toBe('0');
      expect(r!.exitCode).toBe(0);
    } finally {
      delete process.env.SOME_WORKER_SECRET;
    }
  });

  it('a non-zero exit is HOOK_FAILED with the code, not the command', async () => {
    await expect(runHook('exit 3', 'post-restore', info, signal)).rejects.toMatchObject({ code: 'HOOK_FAILED', message: expect.stringMatching(/exited with 3/) });
  });

  it('past its limit the hook and what it started are ended within about a second, HOOK_FAILED', async () => {
    process.env.LIFEBOAT_HOOK_TIMEOUT_SECONDS = '1';
    const t0 = Date.now();
    await expect(runHook('sleep 30 & sleep 30; wait', 'pre-restore', info, signal)).rejects.toMatchObject({ code: 'HOOK_FAILED', message: expect.stringContaining('ran longer than its limit of 1 s') });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
