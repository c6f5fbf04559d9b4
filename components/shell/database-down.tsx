// What a person sees when the console's own database does not answer: what is wrong and what to check.
export function DatabaseDown() {
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div role="alert" className="max-w-lg rounded-lg border border-red-300 bg-white p-6 shadow-sm">
        <p className="text-sm font-semibold uppercase tracking-wide text-red-700">503 · Console database unavailable</p>
        <h1 className="mt-2 text-xl font-semibold">Lifeboat cannot reach its own database</h1>
        <p className="mt-2 text-sm text-slate-700">
          Your backups and the databases they protect are not affected by this, but the console cannot show or start anything until its database answers.
        </p>
        <ul className="mt-3 list-disc space-y-1 pl-5 text-sm text-slate-700">
          <li>Check that the PostgreSQL server named in <code className="font-mono">DATABASE_URL</code> is running.</li>
          <li>With the demo: start it again with <code className="font-mono">npm run demo</code>.</li>
          <li>This page retries when you reload it.</li>
        </ul>
      </div>
    </main>
  );
}
