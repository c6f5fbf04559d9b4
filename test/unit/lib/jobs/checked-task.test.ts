// lib/jobs/checked-task.ts: the worker's check of a task's result against its kind's schema.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkedTask } from '../../../../lib/jobs/checked-task';
import type { JobContext } from '../../../../lib/jobs/lifecycle';
import { UserError } from '../../../../lib/errors';

afterEach(() => vi.restoreAllMocks());

function fakeContext(o: { commitFails?: boolean } = {}) {
  const lines: { line: string; level?: string }[] = [];
  const ctx = {
    jobId: 'j1',
    log: async (line: string, level?: string) => void lines.push({ line, level }),
    // The lifecycle's commit: throws when a cancel or stop came first, so the job never passed the point.
    commit: async () => {
      if (o.commitFails) throw new UserError('JOB_CANCELLED', 'Cancelled on request.');
    },
  } as unknown as JobContext<unknown>;
  return { ctx, lines };
}

describe('checkedTask', () => {
  it('passes a matching result through unchanged', async () => {
    const { ctx, lines } = fakeContext();
    const result = { reply: 'pong: x', host: 'h', pid: 1, elapsedMs: 2 };
    await expect(checkedTask('ping', async () => result)(ctx)).resolves.toBe(result);
    expect(lines).toEqual([]);
  });

  it('checks the result as it will be stored: a Date is a string in JSON, so a string field accepts it', async () => {
    const { ctx } = fakeContext();
    const check = { at: new Date(0), ok: true, serverVersion: '17.2', serverMajor: 17, user: 'postgres', sizes: [], cannotConnect: [], unreadable: [], tool: null, toolProblem: null };
    await expect(checkedTask('test-connection', async () => check)(ctx)).resolves.toBe(check);
  });

  it('fails a result that does not match as INTERNAL, with each issue in the job log and the worker log', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { ctx, lines } = fakeContext();
    const err = await checkedTask('ping', async () => ({ reply: 'pong', pid: 'one' }))(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('INTERNAL');
    expect((err as UserError).message).toMatch(/^The job "Ping the worker" did its work, but its result does not match what the console expects \(3 problems, listed in the log\)\.$/);
    expect(lines.map((l) => l.line)).toEqual([
      expect.stringMatching(/^result does not match its schema: host: /),
      expect.stringMatching(/^result does not match its schema: pid: /),
      expect.stringMatching(/^result does not match its schema: elapsedMs: /),
    ]);
    expect(lines.every((l) => l.level === 'error')).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('a task that throws is not touched: its own error reaches the lifecycle', async () => {
    const { ctx, lines } = fakeContext();
    const own = new UserError('PING_FAILED', 'asked to fail');
    await expect(checkedTask('ping', async () => { throw own; })(ctx)).rejects.toBe(own);
    expect(lines).toEqual([]);
  });

  it('after the point of no return keeps the outcome: the raw result is returned (and stored), each issue a warning in the log', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const { ctx, lines } = fakeContext();
    const raw = { reply: 'pong', pid: 'one' };
    const out = await checkedTask('ping', async (c) => {
      await c.commit();
      return raw;
    })(ctx);
    expect(out).toEqual(raw);
    expect(lines.map((l) => l.line)).toEqual([
      expect.stringMatching(/^result does not match its schema: host: /),
      expect.stringMatching(/^result does not match its schema: pid: /),
      expect.stringMatching(/^result does not match its schema: elapsedMs: /),
      expect.stringMatching(/^the job passed its point of no return and did its work, so it stays succeeded; its result is stored as the task returned it \(3 problems above; a bug in Lifeboat\)$/),
    ]);
    expect(lines.every((l) => l.level === 'warn')).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
  });

  it('a commit that was refused (a cancel came first) is not the point of no return: a bad result is still INTERNAL', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { ctx } = fakeContext({ commitFails: true });
    const err = await checkedTask('ping', async (c) => {
      await c.commit().catch(() => {});
      return { reply: 'pong' };
    })(ctx).catch((e: unknown) => e);
    expect((err as UserError).code).toBe('INTERNAL');
  });
});
