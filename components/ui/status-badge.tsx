// Status pills: the same colours for the same meaning everywhere (green ok, red needs action, amber in between).
const tones = {
  green: 'bg-emerald-100 text-emerald-800 ring-emerald-600/20',
  red: 'bg-red-100 text-red-800 ring-red-600/20',
  amber: 'bg-amber-100 text-amber-900 ring-amber-600/20',
  blue: 'bg-sky-100 text-sky-800 ring-sky-600/20',
  gray: 'bg-slate-100 text-slate-700 ring-slate-500/20',
} as const;

export type Tone = keyof typeof tones;

const statusTone: Record<string, Tone> = {
  succeeded: 'green',
  online: 'green',
  failed: 'red',
  offline: 'red',
  running: 'blue',
  queued: 'amber',
  cancelled: 'gray',
  disabled: 'gray',
};

export function StatusBadge({ status, tone, title, children }: { status?: string; tone?: Tone; title?: string; children?: React.ReactNode }) {
  const t = tone ?? statusTone[status ?? ''] ?? 'gray';
  return (
    <span title={title} className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[t]}`}>
      {children ?? status}
    </span>
  );
}
