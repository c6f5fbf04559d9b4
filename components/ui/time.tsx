'use client';
// Times in the viewer's own time zone, with the zone named; ages in words. Rendered in the browser, which knows the zone.
import { useEffect, useState } from 'react';

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

export function ago(value: string | Date, now = Date.now()): string {
  const s = Math.round((now - new Date(value).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
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

export function duration(ms: number): string {
  if (ms > 0 && ms < 1000) return '< 1 s';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
