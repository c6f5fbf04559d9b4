// lib/errors.ts: UserError bodies, database-unreachable errors as 503, and anything else as a generic 500.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { errorRegistry, isDatabaseUnavailable, isRetryable, toErrorResponse, UserError } from '../../../lib/errors';

afterEach(() => vi.restoreAllMocks());

function quietConsole() {
  return vi.spyOn(console, 'error').mockImplementation(() => {});
}

describe('UserError', () => {
  it('takes its hint and status from the registry unless given', () => {
    const e = new UserError('LAST_ADMIN', 'ann@example.com is the last active admin.');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('UserError');
    expect(e.status).toBe(409);
    expect(e.hint).toBe(errorRegistry.LAST_ADMIN.hint);
    expect(new UserError('VALIDATION', 'bad', 'Fix it.').hint).toBe('Fix it.');
  });

  it('every registry entry has an HTTP status, a retry flag and a hint sentence', () => {
    for (const [code, entry] of Object.entries(errorRegistry)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
      expect(typeof entry.retryable, code).toBe('boolean');
      expect(entry.hint, code).toMatch(/^[A-Z].*\.$/);
    }
  });
});

describe('isRetryable', () => {
  it("follows the registry: a lost worker, a timeout or a full disk may pass on a second run; a wrong password or a bug will not", () => {
    for (const code of ['WORKER_LOST', 'JOB_EXPIRED', 'JOB_CANCELLED', 'DISK_FULL', 'TARGET_UNREACHABLE', 'DB_UNAVAILABLE', 'JOB_STATE_CHANGED', 'TARGET_BUSY']) expect(isRetryable(code), code).toBe(true);
    for (const code of ['TARGET_AUTH_FAILED', 'TOOL_TOO_OLD', 'ROLES_MISSING', 'INTERNAL', 'VALIDATION', 'REQUEST_ALREADY_DECIDED', 'NAME_TAKEN']) expect(isRetryable(code), code).toBe(false);
  });

  it('judges a code the registry does not know by its HTTP status (5xx and no answer may pass), and no code as not retryable', () => {
    expect(isRetryable('HTTP_502', 502)).toBe(true);
    expect(isRetryable('NETWORK', 0)).toBe(true);
    expect(isRetryable('HTTP_418', 418)).toBe(false);
    expect(isRetryable('SOMETHING_NEWER')).toBe(false);
    expect(isRetryable(null)).toBe(false);
    // A known code wins over its status: INTERNAL is a 500 that a retry will not fix.
    expect(isRetryable('INTERNAL', 500)).toBe(false);
  });

  it('CONFLICT is no longer thrown by the console: each former situation has its own code and a hint that says what to do', () => {
    for (const code of ['REQUEST_ALREADY_DECIDED', 'JOB_STATE_CHANGED', 'JOB_NOT_SUCCEEDED', 'NAME_TAKEN', 'TARGET_BUSY', 'BACKUP_NOT_DOWNLOADABLE', 'TABLE_CHANGED', 'REINSERT_ROW_EXISTS', 'REINSERT_PARENT_MISSING', 'REINSERT_REFUSED', 'JOB_NOT_RETRYABLE'] as const) {
      expect(errorRegistry[code].status, code).toBe(409);
      expect(errorRegistry[code].hint, code).not.toBe('Reload the page to see the current state.');
    }
  });
});

describe('toErrorResponse', () => {
  it('answers a UserError with its own status, code, message and hint', () => {
    const spy = quietConsole();
    const r = toErrorResponse(new UserError('EMAIL_TAKEN', 'A user with the email a@b.c already exists.', undefined, { email: 'is taken' }));
    expect(r).toEqual({
      status: 409,
      body: { error: { code: 'EMAIL_TAKEN', message: 'A user with the email a@b.c already exists.', hint: errorRegistry.EMAIL_TAKEN.hint, fields: { email: 'is taken' } } },
    });
    expect(toErrorResponse(new UserError('FORBIDDEN', 'no')).status).toBe(403);
    expect(toErrorResponse(new UserError('VALIDATION', 'no')).body.error).not.toHaveProperty('fields');
    // An error a person can fix is not a bug: nothing is logged.
    expect(spy).not.toHaveBeenCalled();
  });

  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });

  it.each([
    ['a pg ECONNREFUSED error', refused()],
    ['a pg error wrapped twice as cause (adapter, Prisma)', new Error('Invalid `prisma.user.findMany()` invocation', { cause: Object.assign(new Error('driver'), { name: 'DriverAdapterError', cause: refused() }) })],
    ['a DriverAdapterError naming DatabaseNotReachable', Object.assign(new Error('DatabaseNotReachable'), { name: 'DriverAdapterError' })],
    ['Prisma P1001', Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: 'P1001' })],
    ['the server shutting down (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['Connection terminated', new Error('Connection terminated unexpectedly')],
  ])('maps %s to 503 DB_UNAVAILABLE', (_what, err) => {
    const spy = quietConsole();
    expect(isDatabaseUnavailable(err)).toBe(true);
    const r = toErrorResponse(err);
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('DB_UNAVAILABLE');
    expect(r.body.error.hint).toBe(errorRegistry.DB_UNAVAILABLE.hint);
    expect(r.body.error.message).not.toContain('5432');
    expect(spy).not.toHaveBeenCalled();
  });

  it.each([
    ['an Error with internals', new Error('relation "users" does not exist at /srv/lifeboat/lib/secret-path.ts password=hunter2')],
    ['a unique violation', Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), { code: '23505' })],
    ['a thrown string', 'boom: token=abc'],
    ['undefined', undefined],
  ])('maps %s to 500 INTERNAL with a generic message and logs it', (_what, err) => {
    const spy = quietConsole();
    expect(isDatabaseUnavailable(err)).toBe(false);
    const r = toErrorResponse(err);
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ error: { code: 'INTERNAL', message: 'Something went wrong on the server.', hint: errorRegistry.INTERNAL.hint } });
    const text = JSON.stringify(r.body);
    for (const leak of ['users', 'secret-path', 'hunter2', 'duplicate', 'token', 'boom']) expect(text).not.toContain(leak);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(spy.mock.calls[0]).toContain(err);
  });
});
