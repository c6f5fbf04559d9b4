// lib/jobs/run-again.ts runAgainRight: "Run again" is offered only for a failure a second run can get past.
import { describe, expect, it } from 'vitest';
import { runAgainRight } from '../../../../lib/jobs/run-again';

const failed = (kind: string, errorCode: string | null, payload: unknown = { targetId: 't' }) => ({ kind, status: 'failed', errorCode, payload });

describe('runAgainRight', () => {
  it('offers it for retryable failures: a lost worker, a timeout, an unreachable server, a full disk, a cancel', () => {
    for (const code of ['WORKER_LOST', 'JOB_EXPIRED', 'TARGET_UNREACHABLE', 'DISK_FULL', 'BACKUP_TOOL_FAILED', 'BACKUP_PARTIAL']) {
      expect(runAgainRight('operator', failed('backup', code)), code).toEqual({ allowed: true, reason: null });
    }
    expect(runAgainRight('operator', { ...failed('backup', 'JOB_CANCELLED'), status: 'cancelled' }).allowed).toBe(true);
    expect(runAgainRight('operator', failed('ping', 'PING_FAILED', { seconds: 0 })).allowed).toBe(true);
  });

  it('refuses failures a second run repeats (the hint says what to fix), and bugs', () => {
    for (const code of ['TARGET_AUTH_FAILED', 'TOOL_TOO_OLD', 'TARGET_PRIVILEGES', 'INTERNAL', null]) {
      const r = runAgainRight('admin', failed('backup', code));
      expect(r.allowed, String(code)).toBe(false);
      expect(r).toMatchObject({ code: 'JOB_NOT_RETRYABLE' });
    }
  });

  it('only for a failed or cancelled job', () => {
    for (const status of ['queued', 'running', 'succeeded']) expect(runAgainRight('admin', { ...failed('backup', 'WORKER_LOST'), status })).toMatchObject({ allowed: false, code: 'JOB_STATE_CHANGED' });
  });

  it('never for kinds that need choices or a confirmation (restores, repairs, row recovery), whatever the code', () => {
    for (const kind of ['restore', 'restore-preflight', 'rollback', 'drop-copy', 'repair', 'recover-compare', 'recover-reinsert', 'recover-export', 'recover-discard', 'import-upload']) {
      expect(runAgainRight('admin', failed(kind, 'WORKER_LOST')), kind).toMatchObject({ allowed: false, code: 'JOB_NOT_RETRYABLE' });
    }
  });

  it('only for a role that may start the job: a connection test is admin-only', () => {
    expect(runAgainRight('operator', failed('test-connection', 'TARGET_UNREACHABLE'))).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
    expect(runAgainRight('admin', failed('test-connection', 'TARGET_UNREACHABLE')).allowed).toBe(true);
    expect(runAgainRight('viewer', failed('backup', 'WORKER_LOST'))).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
  });
});
