'use client';
// Shows an API error where the person is looking: what went wrong, and what to do about it.
import { ApiError } from '@/lib/client/api';

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  return (
    <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900">
      <p className="font-semibold">{title ?? e?.message ?? 'Something went wrong.'}</p>
      {title && e && <p className="mt-1">{e.message}</p>}
      {e?.hint && <p className="mt-1 text-red-800">{e.hint}</p>}
      {e && <p className="mt-1 font-mono text-xs text-red-700">{e.code}</p>}
      {!e && error instanceof Error && <p className="mt-1">{error.message}</p>}
    </div>
  );
}
