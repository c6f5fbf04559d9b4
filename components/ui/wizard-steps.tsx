// A wizard's step bar: numbered pills, the current one marked for screen readers (aria-current="step"), done ones
// lighter, later ones grey. One component for every wizard, so they look and read alike.
export function WizardSteps({ steps, current, label }: { steps: readonly string[]; current: number; label: string }) {
  return (
    <ol className="flex flex-wrap gap-2 text-sm" aria-label={label}>
      {steps.map((s, i) => (
        <li key={s} className={`rounded-full px-3 py-1 ${i === current ? 'bg-sky-700 text-white' : i < current ? 'bg-sky-100 text-sky-900' : 'bg-slate-100 text-slate-500'}`} aria-current={i === current ? 'step' : undefined}>
          {i + 1}. {s}
        </li>
      ))}
    </ol>
  );
}
