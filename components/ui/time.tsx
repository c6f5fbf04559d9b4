'use client';
// Times in the viewer's own time zone, with the zone named; ages in words. Rendered in the browser, which knows the zone.
import { useEffect, useState } from 'react';
import { ago } from './format';

// ago and duration live in format.ts (server pages call them too); re-exported for client code.
export { ago, duration } from './format';

const formatter = () =>
  new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });

export function LocalTime({ value }: { value: string | Date | null | undefined }) {
  const [text, setText] = useState<string>('');
  useEffect(() => {
    if (value) setText(formatter().format(new Date(value)));
  }, [value]);
  if (!value) return <span className="text-slate-400">—</span>;
  return (
    <time dateTime={new Date(value).toISOString()} suppressHydrationWarning>
      {text || new Date(value).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'}
    </time>
  );
}

export function Ago({ value }: { value: string | Date | null | undefined }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, []);
  if (!value) return <span className="text-slate-400">never</span>;
  return (
    <span title={new Date(value).toISOString()} suppressHydrationWarning>
      {now === null ? '' : ago(value, now)}
    </span>
  );
}
