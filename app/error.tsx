'use client';
// Any page that failed to render: no stack trace, the likely cause, and a retry.
export default function ErrorPage({ reset, error }: { reset: () => void; error: Error & { digest?: string } }) {
  return (
    <main className="flex min-h-[60vh] items-center justify-center px-4">
      <div role="alert" className="max-w-lg rounded-lg border border-red-300 bg-white p-6 shadow-sm">
        <h1 className="text-xl font-semibold">This page could not be shown</h1>
        <p className="mt-2 text-sm text-slate-700">
          The console hit an error while loading it. If this keeps happening, the console&apos;s database may be unreachable; the server log has the details{error.digest ? ` (reference ${error.digest})` : ''}.
        </p>
        <button onClick={reset} className="mt-4 rounded-md bg-sky-700 px-3.5 py-2 text-sm font-medium text-white hover:bg-sky-800">
          Try again
        </button>
      </div>
    </main>
  );
}
