// Users (lib/users/manage-users.ts) and sign-in throttling (lib/auth/throttle.ts via authorizeCredentials) on a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayCluster, type RunningCluster } from '../../scripts/lib/cluster';
import { applyEnv, consoleEnv, createConsoleDatabase, sql, waitFor, withClient } from '../helpers/db';
import { rejection } from '../helpers/backups';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import { createUser, listUsers, updateUser } from '../../lib/users/manage-users';
import { createUserSchema, updateUserSchema } from '../../lib/users/schemas';
import { authorizeCredentials, genericSignInError } from '../../lib/auth/options';
import { throttlePolicy } from '../../lib/auth/throttle';
import type { Actor } from '../../lib/audit/write-audit';
import type { Role } from '../../lib/auth/roles';

let cluster: RunningCluster | undefined;
let url: string;
const system: Actor = { id: null, email: 'system' };
/** Every password used in this file, and the hashes stored for them: none may reach the audit log. */
const passwords = new Set<string>();

beforeAll(async () => {
  cluster = await createThrowawayCluster();
  url = await createConsoleDatabase(cluster, 'lifeboat_users');
  applyEnv(consoleEnv(url));
});

afterAll(async () => {
  await getDb().$disconnect().catch(() => {});
  await cluster?.remove();
}, 60_000);

async function add(actor: Actor, email: string, role: Role, password = `pw-${email}-long-enough`) {
  passwords.add(password);
  return createUser(actor, createUserSchema.parse({ email, name: email.split('@')[0], role, password }), '203.0.113.1');
}

async function change(actor: Actor, id: string, input: Record<string, unknown>) {
  if (typeof input.password === 'string') passwords.add(input.password);
  return updateUser(actor, id, updateUserSchema.parse(input), null);
}

/**
 * Runs operations that write to users while another session holds a lock that lets them read but not write,
 * so each one passes its checks before any commits; releases it once `waiting` of them are blocked.
 * This makes a race that is otherwise a matter of luck happen every time.
 */
async function racing<T>(waiting: number, start: () => Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return withClient(url, async (locker) => {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
    const settled = Promise.allSettled(start());
    try {
      // pg_locks, not pg_stat_activity: the latter is a snapshot frozen for the rest of this transaction.
      await waitFor(
        `${waiting} sessions blocked on a lock`,
        async () => {
          const { rows } = await locker.query<{ n: number }>('SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()');
          return rows[0]!.n >= waiting;
        },
        10_000,
        20,
      );
    } finally {
      await locker.query('COMMIT');
    }
    return settled;
  });
}

const actorOf = (u: { id: string; email: string }): Actor => ({ id: u.id, email: u.email });

async function auditFor(entityId: string) {
  return sql<{ actor_email: string; action: string; params: Record<string, unknown>; ip: string | null }>(
    url,
    'SELECT actor_email, action, params, ip FROM audit_log WHERE entity_id = $1 ORDER BY id',
    [entityId],
  );
}

describe('manage users', () => {
  let root: Awaited<ReturnType<typeof add>>;

  it('creates a user with an argon2id hash, returns no hash, and audits without the password', async () => {
    root = await add(system, 'Root@Users.Test', 'admin', 'root-password-123');
    expect(root).toMatchObject({ email: 'root@users.test', name: 'Root', role: 'admin', disabled: false, hasPassword: true });
    expect(root).not.toHaveProperty('passwordHash');
    const [row] = await sql<{ password_hash: string }>(url, 'SELECT password_hash FROM users WHERE id = $1', [root.id]);
    expect(row!.password_hash).toMatch(/^\$argon2id\$/);
    expect(await auditFor(root.id)).toEqual([
      { actor_email: 'system', action: 'user.create', params: { email: 'root@users.test', role: 'admin' }, ip: '203.0.113.1' },
    ]);
  });

  it('refuses a duplicate email (case-insensitively) with EMAIL_TAKEN and adds nothing', async () => {
    const [{ n: before }] = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM audit_log');
    const err = await rejection(add(actorOf(root), 'ROOT@users.test', 'viewer'));
    expect(err).toBeInstanceOf(UserError);
    expect(err.code).toBe('EMAIL_TAKEN');
    expect(err.fields).toEqual({ email: 'is taken' });
    expect(await sql(url, `SELECT id FROM users WHERE email = 'root@users.test'`)).toHaveLength(1);
    expect((await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM audit_log'))[0]!.n).toBe(before);
  });

  it('two concurrent creations of the same email: one succeeds, the other is EMAIL_TAKEN (not a database error)', async () => {
    const results = await racing(2, () => [add(actorOf(root), 'twin@users.test', 'viewer'), add(actorOf(root), 'twin@users.test', 'viewer')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(failed.reason, String(failed.reason)).toBeInstanceOf(UserError);
    expect((failed.reason as UserError).code).toBe('EMAIL_TAKEN');
    expect(await sql(url, `SELECT id FROM users WHERE email = 'twin@users.test'`)).toHaveLength(1);
  });

  it('changes role, name and disabled, auditing from -> to', async () => {
    const u = await add(actorOf(root), 'ops@users.test', 'viewer');
    const updated = await change(actorOf(root), u.id, { role: 'operator', name: 'Ops Person' });
    expect(updated).toMatchObject({ role: 'operator', name: 'Ops Person', disabled: false });
    const disabled = await change(actorOf(root), u.id, { disabled: true });
    expect(disabled.disabled).toBe(true);
    const audit = await auditFor(u.id);
    expect(audit.map((a) => a.action)).toEqual(['user.create', 'user.update', 'user.update']);
    expect(audit[1]!.params).toEqual({ email: 'ops@users.test', name: 'Ops Person', role: { from: 'viewer', to: 'operator' } });
    expect(audit[2]!.params).toEqual({ email: 'ops@users.test', disabled: true });
    expect(audit[1]!.actor_email).toBe('root@users.test');
    expect((await listUsers()).find((x) => x.id === u.id)).toMatchObject({ disabled: true, hasPassword: true });
  });

  it('changes a password: the new hash is stored, the audit entry has neither the password nor the hash', async () => {
    const u = await add(actorOf(root), 'pw@users.test', 'viewer', 'first-password-1');
    const [{ password_hash: before }] = await sql<{ password_hash: string }>(url, 'SELECT password_hash FROM users WHERE id = $1', [u.id]);
    await change(actorOf(root), u.id, { password: 'second-password-2' });
    const [{ password_hash: after }] = await sql<{ password_hash: string }>(url, 'SELECT password_hash FROM users WHERE id = $1', [u.id]);
    expect(after).not.toBe(before);
    expect(await authorizeCredentials('pw@users.test', 'second-password-2', null)).toMatchObject({ id: u.id });
    const audit = await auditFor(u.id);
    expect(audit.at(-1)!.action).toBe('user.update');
    const text = JSON.stringify(audit);
    for (const secret of ['first-password-1', 'second-password-2', before, after]) expect(text).not.toContain(secret);
  });

  it('NOT_FOUND for an unknown user', async () => {
    expect((await rejection(change(actorOf(root), '00000000-0000-4000-8000-000000000000', { role: 'viewer' }))).code).toBe('NOT_FOUND');
  });

  describe('the last active admin', () => {
    it('cannot be demoted or disabled (LAST_ADMIN), and nothing changes', async () => {
      const admins = await sql(url, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled`);
      expect(admins).toEqual([{ id: root.id }]);
      for (const input of [{ role: 'operator' }, { role: 'viewer' }, { disabled: true }, { role: 'viewer', disabled: true }]) {
        const err = await rejection(change(system, root.id, input));
        expect(err, JSON.stringify(input)).toBeInstanceOf(UserError);
        expect(err.code, JSON.stringify(input)).toBe('LAST_ADMIN');
      }
      expect(await sql(url, 'SELECT role, disabled FROM users WHERE id = $1', [root.id])).toEqual([{ role: 'admin', disabled: false }]);
      expect((await auditFor(root.id)).map((a) => a.action)).toEqual(['user.create']);
    });

    it('a disabled admin does not count: with only a disabled second admin, the last active one is still protected', async () => {
      const ghost = await add(actorOf(root), 'ghost-admin@users.test', 'admin');
      await change(actorOf(root), ghost.id, { disabled: true });
      expect((await rejection(change(system, root.id, { role: 'operator' }))).code).toBe('LAST_ADMIN');
      // Re-enabling and then demoting the disabled admin is fine: root stays.
      await change(actorOf(root), ghost.id, { disabled: false });
      await change(actorOf(root), ghost.id, { role: 'viewer' });
    });

    it('two concurrent demotions of the only two admins: exactly one succeeds, the other is LAST_ADMIN', async () => {
      const second = await add(actorOf(root), 'second-admin@users.test', 'admin');
      for (let round = 0; round < 3; round++) {
        // Round 0 lets the two run freely; the others hold writes back until both have checked the admin count.
        const start = () => [change(system, root.id, { role: 'operator' }), change(system, second.id, { role: 'operator' })];
        const results = round === 0 ? await Promise.allSettled(start()) : await racing(2, start);
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(ok, `round ${round}`).toHaveLength(1);
        expect(failed.map((f) => (f.reason as UserError).code)).toEqual(['LAST_ADMIN']);
        const active = await sql<{ id: string }>(url, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled`);
        expect(active).toHaveLength(1);
        // Restore both admins for the next round.
        await change(system, root.id, { role: 'admin' });
        await change(system, second.id, { role: 'admin' });
      }
      // Same race with disabling instead of demoting.
      const results = await racing(2, () => [change(system, root.id, { disabled: true }), change(system, second.id, { disabled: true })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as UserError).code)).toEqual(['LAST_ADMIN']);
      await sql(url, `UPDATE users SET disabled = false WHERE id IN ($1, $2)`, [root.id, second.id]);
    });

    it('an admin cannot disable their own account (SELF_LOCKOUT), even when another admin exists', async () => {
      const active = await sql<{ id: string }>(url, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled`);
      expect(active.length).toBeGreaterThanOrEqual(2);
      const err = await rejection(change(actorOf(root), root.id, { disabled: true }));
      expect(err).toBeInstanceOf(UserError);
      expect(err.code).toBe('SELF_LOCKOUT');
      expect(await sql(url, 'SELECT disabled FROM users WHERE id = $1', [root.id])).toEqual([{ disabled: false }]);
    });
  });

  it('no audit entry anywhere contains a password or a password hash', async () => {
    const audit = JSON.stringify(await sql(url, 'SELECT params FROM audit_log'));
    const hashes = (await sql<{ password_hash: string }>(url, 'SELECT password_hash FROM users WHERE password_hash IS NOT NULL')).map((r) => r.password_hash);
    expect(passwords.size).toBeGreaterThan(5);
    for (const secret of [...passwords, ...hashes]) expect(audit).not.toContain(secret);
    expect(audit).not.toMatch(/argon2/);
  });
});

describe('sign-in and throttling', () => {
  let carol: Awaited<ReturnType<typeof add>>;

  beforeAll(async () => {
    carol = await add(system, 'carol@users.test', 'operator', 'carol-right-password');
    await add(system, 'dave@users.test', 'viewer', 'dave-right-password');
    await add(system, 'erin@users.test', 'viewer', 'erin-right-password');
  });

  it('signs in with the right password (any case and spaces in the email) and records the time', async () => {
    expect(await authorizeCredentials('  Carol@Users.TEST ', 'carol-right-password', '198.51.100.1')).toEqual({
      id: carol.id,
      email: 'carol@users.test',
      name: 'carol',
    });
    const [row] = await sql<{ last_login_at: Date | null }>(url, 'SELECT last_login_at FROM users WHERE id = $1', [carol.id]);
    expect(row!.last_login_at).toBeInstanceOf(Date);
  });

  it('refuses a wrong password with the generic message and counts it per account and per address', async () => {
    await expect(authorizeCredentials('carol@users.test', 'wrong', '198.51.100.2')).rejects.toThrow(new Error(genericSignInError));
    expect(genericSignInError).toBe('Email or password is incorrect.');
    const rows = await sql(url, `SELECT key, failures, locked_until FROM auth_throttle WHERE key IN ('email:carol@users.test', 'ip:198.51.100.2') ORDER BY key`);
    expect(rows).toEqual([
      { key: 'email:carol@users.test', failures: 1, locked_until: null },
      { key: 'ip:198.51.100.2', failures: 1, locked_until: null },
    ]);
    // A good sign-in clears the account's count; the address keeps its own.
    await authorizeCredentials('carol@users.test', 'carol-right-password', '198.51.100.2');
    expect(await sql(url, `SELECT key, failures FROM auth_throttle WHERE key IN ('email:carol@users.test', 'ip:198.51.100.2')`)).toEqual([
      { key: 'ip:198.51.100.2', failures: 1 },
    ]);
  });

  it(`after ${throttlePolicy.lockAfter} failures refuses even the right password, saying it is locked; the lock is in auth_throttle`, async () => {
    const ip = '198.51.100.3';
    const started = Date.now();
    for (let i = 1; i <= throttlePolicy.lockAfter; i++) {
      await expect(authorizeCredentials('dave@users.test', `wrong-${i}`, ip), `attempt ${i}`).rejects.toThrow(genericSignInError);
    }
    // Failures past the free ones were slowed down (250 ms doubling, capped at 4 s).
    expect(Date.now() - started).toBeGreaterThan(8_000);

    const lockedAt = Date.now();
    const err = await rejection(authorizeCredentials('dave@users.test', 'dave-right-password', ip));
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/locked/);
    expect(err.message).toBe('Too many failed sign-ins. Sign-in is locked for 15 more minutes.');
    // A locked attempt answers at once (no password check, no delay).
    expect(Date.now() - lockedAt).toBeLessThan(1_000);

    const rows = await sql<{ key: string; failures: number; locked_until: Date | null }>(
      url,
      `SELECT key, failures, locked_until FROM auth_throttle WHERE key IN ('email:dave@users.test', $1) ORDER BY key`,
      [`ip:${ip}`],
    );
    // Attempts are counted before their check: the refused one above counts too (it was never checked).
    expect(rows.map((r) => [r.key, r.failures])).toEqual([
      ['email:dave@users.test', throttlePolicy.lockAfter + 1],
      [`ip:${ip}`, throttlePolicy.lockAfter + 1],
    ]);
    for (const r of rows) {
      const minutes = (r.locked_until!.getTime() - Date.now()) / 60_000;
      expect(minutes).toBeGreaterThan(throttlePolicy.lockMinutes - 1);
      expect(minutes).toBeLessThanOrEqual(throttlePolicy.lockMinutes);
    }
    // The account is locked from any address; the address is locked for any account.
    await expect(authorizeCredentials('dave@users.test', 'dave-right-password', '198.51.100.99')).rejects.toThrow(/locked/);
    await expect(authorizeCredentials('erin@users.test', 'erin-right-password', ip)).rejects.toThrow(/locked/);
    expect(await authorizeCredentials('erin@users.test', 'erin-right-password', '198.51.100.98')).toMatchObject({ email: 'erin@users.test' });

    // When the lock has passed, the right password works again and clears the count.
    await sql(url, `UPDATE auth_throttle SET locked_until = now() - interval '1 second', last_failure_at = now() - interval '1 hour' WHERE key IN ('email:dave@users.test', $1)`, [`ip:${ip}`]);
    expect(await authorizeCredentials('dave@users.test', 'dave-right-password', ip)).toMatchObject({ email: 'dave@users.test' });
  }, 40_000);

  it(`${50} wrong passwords sent at once: at most ${throttlePolicy.lockAfter} are checked, the rest and then the right password are refused as locked`, async () => {
    await add(system, 'gina@users.test', 'viewer', 'gina-right-password');
    const ip = '198.51.100.50';
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => authorizeCredentials('gina@users.test', `wrong-${i}`, ip)),
    );
    const messages = settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).message : 'signed in'));
    // "incorrect" is answered only after a password check; "locked" before any.
    const checked = messages.filter((m) => m === genericSignInError).length;
    const locked = messages.filter((m) => /^Too many failed sign-ins\. Sign-in is locked for 1[45] more minutes\.$/.test(m)).length;
    expect({ checked, locked, other: 50 - checked - locked }).toEqual({ checked: throttlePolicy.lockAfter, locked: 50 - throttlePolicy.lockAfter, other: 0 });
    await expect(authorizeCredentials('gina@users.test', 'gina-right-password', '198.51.100.51')).rejects.toThrow(/locked/);
    const rows = await sql<{ key: string; future: boolean }>(
      url,
      `SELECT key, locked_until > now() AS future FROM auth_throttle WHERE key IN ('email:gina@users.test', $1) ORDER BY key`,
      [`ip:${ip}`],
    );
    expect(rows).toEqual([
      { key: 'email:gina@users.test', future: true },
      { key: `ip:${ip}`, future: true },
    ]);
  }, 60_000);

  it('parallel wrong passwords from many addresses against one account: the account lock still caps the checks', async () => {
    await add(system, 'hank@users.test', 'viewer', 'hank-right-password');
    const settled = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => authorizeCredentials('hank@users.test', `wrong-${i}`, `198.51.101.${i + 1}`)),
    );
    const checked = settled.filter((s) => s.status === 'rejected' && (s.reason as Error).message === genericSignInError).length;
    expect(checked).toBe(throttlePolicy.lockAfter);
  }, 60_000);

  it('a disabled user cannot sign in, with the same generic message', async () => {
    const u = await add(system, 'frank@users.test', 'viewer', 'frank-right-password');
    await change(system, u.id, { disabled: true });
    await expect(authorizeCredentials('frank@users.test', 'frank-right-password', null)).rejects.toThrow(new Error(genericSignInError));
    const [row] = await sql<{ last_login_at: Date | null }>(url, 'SELECT last_login_at FROM users WHERE id = $1', [u.id]);
    expect(row!.last_login_at).toBeNull();
  });

  it('an unknown email fails with the generic message, after a password check like a known one', async () => {
    const time = async (email: string) => {
      const t = performance.now();
      await expect(authorizeCredentials(email, 'some-password', null)).rejects.toThrow(new Error(genericSignInError));
      return performance.now() - t;
    };
    await time('warmup-nobody@users.test');
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 3; i++) {
      unknown.push(await time(`nobody-${i}@users.test`));
      await sql(url, `DELETE FROM auth_throttle WHERE key = 'email:carol@users.test'`);
      known.push(await time('carol@users.test'));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    // Loose on purpose: only that an argon2 verification happens for unknown accounts too.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.3);
  });
});
