// Four eyes for production: with the setting on, replacing production, rolling it back and switching the setting off
// each create a request instead of acting; another admin approves (the action runs) or refuses; the requester cannot
// approve their own but can withdraw it; requests expire; a failed approval leaves the request waiting; all audited.
import { describe, expect, it } from 'vitest';
import { sql } from '../helpers/db';
import { type BackupRow, type Spawned, useStack } from '../helpers/backups';
import { backupNow, makeTarget, makeUser, restoreInput, rowCount } from '../helpers/restores';
import { startRestore, startTargetJob } from '../../lib/restores/start-restore';
import { approvalForJob, decideRestoreRequest, listRestoreRequests, withdrawRestoreRequest } from '../../lib/restores/approval-requests';
import { getSettings, updateSettings } from '../../lib/settings/manage-settings';
import { keptCopies } from '../../lib/restores/restore-history';
import { UserError } from '../../lib/errors';

let worker: Spawned;
let targetId: string;
let backup: BackupRow;

async function audit(action: string): Promise<number> {
  const [r] = await sql<{ n: number }>(fx.stack.url, 'SELECT count(*)::int AS n FROM audit_log WHERE action = $1', [action]);
  return r!.n;
}

const fx = useStack('lifeboat_approvals', { seed: 'eitherway' }, async ({ stack }) => {
  targetId = (await makeTarget(stack, { name: 'prod', database: 'eitherway' })).id;
  worker = await stack.readyWorker();
  backup = await backupNow(stack, worker, targetId);
  await updateSettings(stack.admin, { requireSecondAdmin: true }, null);
});

describe('second-admin approval for production restores', () => {
  const replace = () => ({ ...restoreInput(String(backup.id), { mode: 'replace', method: 'swap' }), confirm: 'eitherway' });

  it('a replace becomes a request, not a job; the requester cannot approve it; another admin approves and the swap runs', async () => {
    await sql(fx.cluster.url('eitherway'), 'DELETE FROM core.sessions WHERE id IN (SELECT id FROM core.sessions LIMIT 100)');
    const restoreJobs = async () => (await sql<{ n: number }>(fx.stack.url, "SELECT count(*)::int AS n FROM jobs WHERE kind = 'restore'"))[0]!.n;
    const jobsBefore = await restoreJobs();
    const req = await startRestore(fx.stack.admin, replace(), null);
    expect(req).toMatchObject({ pending: true });
    expect(await restoreJobs()).toBe(jobsBefore);
    expect(await audit('restore.request')).toBe(1);

    const own = await decideRestoreRequest(fx.stack.admin, req.id, 'approve', null, null).catch((e: unknown) => e);
    expect(own).toBeInstanceOf(UserError);
    expect((own as UserError).code).toBe('SELF_APPROVAL');

    const second = await makeUser(fx.stack, 'admin');
    const decided = await decideRestoreRequest(second, req.id, 'approve', null, null);
    expect(decided.status).toBe('approved');
    const job = await fx.stack.waitJob((decided as { job: { id: string } }).job.id, ['succeeded', 'failed', 'cancelled'], 45_000, worker);
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    expect(await rowCount(fx.cluster.url('eitherway'), 'core.sessions')).toBe(2000);
    expect(await audit('restore.approve')).toBe(1);
    const listed = (await listRestoreRequests()).find((r) => r.id === req.id)!;
    expect(listed).toMatchObject({ status: 'approved', requestedBy: fx.stack.admin.email, decidedBy: second.email });

    const again = await decideRestoreRequest(second, req.id, 'refuse', null, null).catch((e: unknown) => e);
    expect((again as UserError).code).toBe('REQUEST_ALREADY_DECIDED');
  }, 90_000);

  it('a refused request starts nothing and is audited; restores into a new database need no approval', async () => {
    const req = await startRestore(fx.stack.admin, replace(), null);
    const second = await makeUser(fx.stack, 'admin');
    expect((await decideRestoreRequest(second, req.id, 'refuse', 'not during business hours', null)).status).toBe('refused');
    expect(await audit('restore.refuse')).toBe(1);
    const [row] = await sql(fx.stack.url, 'SELECT status, reason, job_id FROM restore_requests WHERE id = $1', [req.id]);
    expect(row).toEqual({ status: 'refused', reason: 'not during business hours', job_id: null });

    const direct = await startRestore(fx.stack.operator, restoreInput(String(backup.id), { mode: 'new', targetId, database: 'copy_no_approval' }), null);
    expect('pending' in direct).toBe(false);
  }, 60_000);

  it('the card says what will happen: target, backup and its time, swap or in place, and when the request expires', async () => {
    const req = await startRestore(fx.stack.admin, { ...restoreInput(String(backup.id), { mode: 'replace', method: 'in-place' }), confirm: 'eitherway' }, null);
    const listed = (await listRestoreRequests()).find((r) => r.id === req.id)!;
    expect(listed).toMatchObject({ kind: 'restore', status: 'requested', database: 'eitherway', method: 'in-place', target: { id: targetId, name: 'prod' }, backup: { id: String(backup.id), database: 'eitherway', uploaded: false } });
    expect(new Date(listed.backup!.createdAt!).getTime()).toBe(new Date(backup.created_at).getTime());
    expect(listed.what).toContain('in place');
    // Default: 24 hours to decide.
    expect(new Date(listed.expiresAt).getTime() - new Date(listed.requestedAt).getTime()).toBe(24 * 3600_000);
    await withdrawRestoreRequest(fx.stack.admin, req.id, null);
  });

  it('a rollback needs the second admin too: the requester alone gets a request, not a job; another admin approves and it runs', async () => {
    const copy = (await keptCopies(targetId)).find((c) => c.database.includes('_before_restore_'));
    expect(copy, 'the first test left a kept copy').toBeDefined();
    const rollbacks = async () => (await sql<{ n: number }>(fx.stack.url, "SELECT count(*)::int AS n FROM jobs WHERE kind = 'rollback'"))[0]!.n;
    const before = await rollbacks();
    const req = await startTargetJob(fx.stack.admin, 'rollback', targetId, { keptDatabase: copy!.database }, null);
    expect(req).toMatchObject({ pending: true });
    expect(await rollbacks()).toBe(before);
    expect(await audit('rollback.request')).toBe(1);
    const own = await decideRestoreRequest(fx.stack.admin, req.id, 'approve', null, null).catch((e: unknown) => e);
    expect((own as UserError).code).toBe('SELF_APPROVAL');
    const second = await makeUser(fx.stack, 'admin');
    const decided = await decideRestoreRequest(second, req.id, 'approve', null, null);
    const jobId = (decided as { job: { id: string } }).job.id;
    const job = await fx.stack.waitJob(jobId, ['succeeded', 'failed', 'cancelled'], 45_000, worker);
    expect(job.status, `${job.error_code}: ${job.error_message}`).toBe('succeeded');
    expect(await audit('rollback.approve')).toBe(1);
    // The job page can show who asked and who approved.
    expect(await approvalForJob(jobId)).toMatchObject({ requestId: req.id, kind: 'rollback', requestedBy: fx.stack.admin.email, approvedBy: second.email });
  }, 90_000);

  it('switching the setting off needs the second admin too: the requester alone cannot, and still cannot restore at once', async () => {
    const off = await updateSettings(fx.stack.admin, { requireSecondAdmin: false }, null);
    expect(off.settings.requireSecondAdmin).toBe(true);
    expect(off.pendingRequest).toMatchObject({ pending: true, kind: 'settings' });
    expect((await getSettings()).requireSecondAdmin).toBe(true);
    expect(await startRestore(fx.stack.admin, replace(), null)).toMatchObject({ pending: true });
    const own = await decideRestoreRequest(fx.stack.admin, off.pendingRequest!.id, 'approve', null, null).catch((e: unknown) => e);
    expect((own as UserError).code).toBe('SELF_APPROVAL');
    const second = await makeUser(fx.stack, 'admin');
    expect((await decideRestoreRequest(second, off.pendingRequest!.id, 'approve', null, null)).status).toBe('approved');
    expect((await getSettings()).requireSecondAdmin).toBe(false);
    const [row] = await sql(fx.stack.url, "SELECT params FROM audit_log WHERE action = 'settings.update' AND actor_id = $1 ORDER BY id DESC LIMIT 1", [second.id]);
    expect(row).toMatchObject({ params: { requireSecondAdmin: false, requestId: off.pendingRequest!.id } });
    // Back on for the tests below: switching on needs nobody's approval.
    await updateSettings(fx.stack.admin, { requireSecondAdmin: true }, null);
    expect((await getSettings()).requireSecondAdmin).toBe(true);
  });

  it('a request expires: past its time it cannot be approved and is listed as expired', async () => {
    const req = await startRestore(fx.stack.admin, replace(), null);
    await sql(fx.stack.url, "UPDATE restore_requests SET requested_at = now() - interval '25 hours', expires_at = now() - interval '1 hour' WHERE id = $1", [req.id]);
    const second = await makeUser(fx.stack, 'admin');
    const late = await decideRestoreRequest(second, req.id, 'approve', null, null).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(UserError);
    expect((late as UserError).code).toBe('REQUEST_EXPIRED');
    expect((await listRestoreRequests()).find((r) => r.id === req.id)!.status).toBe('expired');
    const [row] = await sql(fx.stack.url, 'SELECT decided_by_id, job_id FROM restore_requests WHERE id = $1', [req.id]);
    expect(row).toEqual({ decided_by_id: null, job_id: null });
    // The expiry is a setting.
    await updateSettings(fx.stack.admin, { approvalExpiryHours: 2 }, null);
    const short = await startRestore(fx.stack.admin, replace(), null);
    const listed = (await listRestoreRequests()).find((r) => r.id === short.id)!;
    expect(new Date(listed.expiresAt).getTime() - new Date(listed.requestedAt).getTime()).toBe(2 * 3600_000);
    await withdrawRestoreRequest(fx.stack.admin, short.id, null);
    await updateSettings(fx.stack.admin, { approvalExpiryHours: 24 }, null);
  });

  it('the requester can withdraw; nobody else can, and a withdrawn request cannot be approved', async () => {
    const req = await startRestore(fx.stack.admin, replace(), null);
    const second = await makeUser(fx.stack, 'admin');
    const notMine = await withdrawRestoreRequest(second, req.id, null).catch((e: unknown) => e);
    expect((notMine as UserError).code).toBe('NOT_REQUESTER');
    expect((await withdrawRestoreRequest(fx.stack.admin, req.id, null)).status).toBe('withdrawn');
    expect(await audit('restore.withdraw')).toBeGreaterThanOrEqual(1);
    const late = await decideRestoreRequest(second, req.id, 'approve', null, null).catch((e: unknown) => e);
    expect((late as UserError).code).toBe('REQUEST_ALREADY_DECIDED');
    const [row] = await sql(fx.stack.url, 'SELECT status, job_id FROM restore_requests WHERE id = $1', [req.id]);
    expect(row).toEqual({ status: 'withdrawn', job_id: null });
  });

  it('an approval that cannot start its job leaves the request waiting, with no job and no approve entry (one transaction)', async () => {
    // A backup row that the request names, then loses (deleted from the catalog between request and approval).
    const [ghost] = await sql<{ id: string }>(fx.stack.url, "INSERT INTO backup_log (backup_type, backup_file, status, target_id, database_name) VALUES ('logical', 'ghost.dump', 'succeeded', $1, 'eitherway') RETURNING id::text AS id", [targetId]);
    const req = await startRestore(fx.stack.admin, { ...restoreInput(ghost!.id, { mode: 'replace', method: 'swap' }), confirm: 'eitherway' }, null);
    await sql(fx.stack.url, 'DELETE FROM backup_log WHERE id = $1', [ghost!.id]);
    const approvesBefore = await audit('restore.approve');
    const second = await makeUser(fx.stack, 'admin');
    const err = await decideRestoreRequest(second, req.id, 'approve', null, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const [row] = await sql(fx.stack.url, 'SELECT status, decided_by_id, job_id FROM restore_requests WHERE id = $1', [req.id]);
    expect(row).toEqual({ status: 'requested', decided_by_id: null, job_id: null });
    expect(await audit('restore.approve')).toBe(approvesBefore);
    await withdrawRestoreRequest(fx.stack.admin, req.id, null);
  });

  it('a failure after the job is enqueued (the approve entry refused) rolls back the claim, the job row, its start entry and its queue message', async () => {
    const req = await startRestore(fx.stack.admin, replace(), null);
    const second = await makeUser(fx.stack, 'admin');
    const count = async (q: string) => (await sql<{ n: number }>(fx.stack.url, q))[0]!.n;
    const jobs = () => count("SELECT count(*)::int AS n FROM jobs WHERE kind = 'restore'");
    const messages = () => count("SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'restore.%'");
    const before = { jobs: await jobs(), messages: await messages(), starts: await audit('job.start'), approves: await audit('restore.approve') };
    // The last write of the decision fails: everything before it (claim, job row, start entry, queue message) must go too.
    await sql(
      fx.stack.url,
      `CREATE FUNCTION public.test_refuse_approve() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.action = 'restore.approve' THEN RAISE EXCEPTION 'approve entry refused by the test'; END IF; RETURN NEW; END $$;
       CREATE TRIGGER test_refuse_approve BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION public.test_refuse_approve();`,
    );
    let err: unknown;
    try {
      err = await decideRestoreRequest(second, req.id, 'approve', null, null).catch((e: unknown) => e);
    } finally {
      await sql(fx.stack.url, 'DROP TRIGGER test_refuse_approve ON audit_log; DROP FUNCTION public.test_refuse_approve();');
    }
    expect(String((err as Error).message)).toContain('approve entry refused by the test');
    const [row] = await sql(fx.stack.url, 'SELECT status, decided_by_id, decided_at, job_id FROM restore_requests WHERE id = $1', [req.id]);
    expect(row).toEqual({ status: 'requested', decided_by_id: null, decided_at: null, job_id: null });
    expect({ jobs: await jobs(), messages: await messages(), starts: await audit('job.start'), approves: await audit('restore.approve') }).toEqual(before);
    // Still undecided, so it can be decided (here: refused) as if nothing had happened.
    expect((await decideRestoreRequest(second, req.id, 'refuse', 'test', null)).status).toBe('refused');
  });
});
