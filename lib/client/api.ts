// Browser-side API calls: JSON in, JSON out, errors as ApiError carrying the server's code, message and hint.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init?.method ?? 'GET',
      headers: init?.body !== undefined ? { 'content-type': 'application/json' } : undefined,
      body: init?.body !== undefined ? JSON.stringify(init.body) : undefined,
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The console did not answer.', 'Check your connection, or whether the console is running.');
  }
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: handled below
  }
  if (!res.ok) {
    const e = (data as { error?: { code: string; message: string; hint?: string; fields?: Record<string, string> } })?.error;
    if (res.status === 401 && typeof window !== 'undefined') {
      window.location.href = `/login?callbackUrl=${encodeURIComponent(window.location.pathname)}`;
    }
    throw new ApiError(res.status, e?.code ?? 'HTTP_' + res.status, e?.message ?? `The server answered ${res.status}.`, e?.hint, e?.fields);
  }
  return data as T;
}
