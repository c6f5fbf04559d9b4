'use client';
// Users (admin): who can sign in, with which role; create, change role, disable, reset password.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, ApiError } from '@/lib/client/api';
import { queryKeys } from '@/lib/client/query-keys';
import { roleLabels, type Role } from '@/lib/auth/roles';
import { passwordRule } from '@/lib/auth/password-rule';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { ErrorBox } from '@/components/ui/error-box';
import { StatusBadge } from '@/components/ui/status-badge';
import { Ago } from '@/components/ui/time';

interface UserRow { id: string; email: string; name: string; role: Role; disabled: boolean; lastLoginAt: string | null; hasPassword: boolean }

const input = 'mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-1 focus:ring-sky-600';

export function UsersAdmin({ selfId }: { selfId: string }) {
  const qc = useQueryClient();
  const { data, error, isPending } = useQuery({ queryKey: queryKeys.users, queryFn: () => api<{ users: UserRow[] }>('/api/users') });
  const [rowError, setRowError] = useState<{ id: string; error: unknown } | null>(null);
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Record<string, unknown> }) => api(`/api/users/${id}`, { method: 'PATCH', body }),
    onMutate: () => setRowError(null),
    onError: (err, vars) => setRowError({ id: vars.id, error: err }),
    onSettled: () => qc.invalidateQueries({ queryKey: queryKeys.users }),
  });
  return (
    <div className="space-y-6">
      <Card title="People who can sign in">
        <ErrorBox error={error} />
        {isPending ? (
          <p className="text-sm text-slate-500">Loading…</p>
        ) : (
          <table className="w-full text-sm" data-testid="users-table">
            <thead className="text-left text-xs uppercase tracking-wide text-slate-500">
              <tr><th className="pb-2">Name</th><th className="pb-2">Role</th><th className="pb-2">State</th><th className="pb-2">Last sign-in</th><th className="pb-2" /></tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {data?.users.map((u) => (
                <tr key={u.id} className="align-top" data-email={u.email}>
                  <td className="py-2.5">
                    <p className="font-medium">{u.name}{u.id === selfId && <span className="ml-2 text-xs text-slate-500">(you)</span>}</p>
                    <p className="text-xs text-slate-500">{u.email}</p>
                    {rowError?.id === u.id && <div className="mt-2"><ErrorBox error={rowError.error} /></div>}
                  </td>
                  <td className="py-2.5">
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      onChange={(e) => {
                        if (u.id === selfId && e.target.value !== 'admin' && !confirm('Remove your own admin role? You will lose access to this page.')) return;
                        update.mutate({ id: u.id, body: { role: e.target.value } });
                      }}
                      className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
                    >
                      <option value="viewer">viewer</option>
                      <option value="operator">operator</option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td className="py-2.5"><StatusBadge status={u.disabled ? 'disabled' : 'succeeded'}>{u.disabled ? 'disabled' : 'active'}</StatusBadge></td>
                  <td className="py-2.5 text-slate-600"><Ago value={u.lastLoginAt} /></td>
                  <td className="py-2.5 text-right">
                    {u.id !== selfId && (
                      <Button
                        variant="secondary"
                        className={u.disabled ? '' : 'text-red-700'}
                        onClick={() => {
                          if (u.disabled || confirm(`Disable ${u.email}? They are signed out at their next click and cannot sign in until enabled again.`)) {
                            update.mutate({ id: u.id, body: { disabled: !u.disabled } });
                          }
                        }}
                        disabled={update.isPending}
                      >
                        {u.disabled ? 'Enable' : 'Disable'}
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <CreateUser />
      <Card title="What each role may do">
        <ul className="space-y-1 text-sm text-slate-700">
          {Object.entries(roleLabels).map(([r, label]) => <li key={r}>{label}</li>)}
        </ul>
      </Card>
    </div>
  );
}

function CreateUser() {
  const qc = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: Record<string, string>) => api<{ user: UserRow }>('/api/users', { method: 'POST', body }),
    onSuccess: (data) => {
      setDone(`${data.user.email} can now sign in as ${data.user.role}.`);
      void qc.invalidateQueries({ queryKey: queryKeys.users });
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fields ?? {} : {};
  return (
    <Card title="Add a user">
      <form
        className="grid gap-4 sm:grid-cols-2"
        onSubmit={(e) => {
          e.preventDefault();
          setDone(null);
          const f = new FormData(e.currentTarget);
          create.mutate(Object.fromEntries([...f.entries()].map(([k, v]) => [k, String(v)])), {
            onSuccess: () => (e.target as HTMLFormElement).reset(),
          });
        }}
      >
        <label className="text-sm font-medium text-slate-700">Name<input name="name" required className={input} />{fields.name && <span className="text-xs text-red-700">Name {fields.name}</span>}</label>
        <label className="text-sm font-medium text-slate-700">Email<input name="email" type="email" required className={input} />{fields.email && <span className="text-xs text-red-700">Email {fields.email}</span>}</label>
        <label className="text-sm font-medium text-slate-700">Role
          <select name="role" defaultValue="viewer" className={input}>
            <option value="viewer">viewer</option><option value="operator">operator</option><option value="admin">admin</option>
          </select>
        </label>
        <label className="text-sm font-medium text-slate-700">Initial password<input name="password" type="password" autoComplete="new-password" minLength={passwordRule.min} required className={input} />
          <span className="text-xs text-slate-500">{passwordRule.message}</span>
        </label>
        <div className="sm:col-span-2 space-y-3">
          <ErrorBox error={create.error} />
          {done && <p className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">{done}</p>}
          <Button type="submit" disabled={create.isPending}>{create.isPending ? 'Adding…' : 'Add user'}</Button>
        </div>
      </form>
    </Card>
  );
}
