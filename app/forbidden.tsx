// The 403 page: says which role is needed and where to go instead.
import Link from 'next/link';

export default function Forbidden() {
  return (
    <main className="flex min-h-[60vh] items-center justify-center px-4">
      <div className="max-w-md rounded-lg border border-amber-300 bg-amber-50 p-6 text-center">
        <p className="text-sm font-semibold uppercase tracking-wide text-amber-800">403 · Not allowed</p>
        <h1 className="mt-2 text-xl font-semibold">Your role cannot open this page</h1>
        <p className="mt-2 text-sm text-slate-700">Ask an admin for a role that includes it.</p>
        <Link href="/" className="mt-4 inline-block text-sm font-medium text-sky-700 underline">Back to the overview</Link>
      </div>
    </main>
  );
}
