// A progress bar with its percentage written out (colour alone is not enough at 3 a.m.).
export function ProgressBar({ value, label }: { value: number | null | undefined; label?: string }) {
  const pct = value === null || value === undefined ? null : Math.max(0, Math.min(100, value));
  return (
    <div>
      <div
        className="h-2.5 w-full overflow-hidden rounded-full bg-slate-200"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct ?? undefined}
        aria-label={label ?? 'progress'}
      >
        <div className={`h-full rounded-full bg-sky-600 transition-all ${pct === null ? 'w-1/3 animate-pulse' : ''}`} style={pct === null ? undefined : { width: `${pct}%` }} />
      </div>
      <p className="mt-1 text-xs text-slate-600">{pct === null ? 'working…' : `${pct.toFixed(0)} %`}{label ? ` · ${label}` : ''}</p>
    </div>
  );
}
