// 404: a link back instead of a dead end.
import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="flex min-h-[60vh] items-center justify-center px-4">
      <div className="max-w-md text-center">
        <p className="text-sm font-semibold uppercase tracking-wide text-slate-500">404</p>
        <h1 className="mt-2 text-xl font-semibold">There is nothing here</h1>
        <Link href="/" className="mt-4 inline-block text-sm font-medium text-sky-700 underline">Back to the overview</Link>
      </div>
    </main>
  );
}
