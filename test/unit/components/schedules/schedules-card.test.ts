// components/schedules/schedules-card.tsx: a base-backup schedule's one line (pure helper of a client component).
import { describe, expect, it } from 'vitest';
import { baseScheduleLabel, type ScheduleRow } from '../../../../components/schedules/schedules-card';

const row = (over: Partial<ScheduleRow>): ScheduleRow => ({ id: 'x', kind: 'base', cron: '0 1 * * 0', timezone: 'UTC', format: 'custom-zstd', compressLevel: 0, zstdLevel: 2, jobs: 2, retentionDays: 56, retentionCount: null, enabled: true, nextRunAt: null, lastRunAt: null, baseCompression: null, ...over });

describe('baseScheduleLabel', () => {
  it('says the runbook preset in words and the retention in weeks', () => {
    expect(baseScheduleLabel(row({}))).toBe('Base backup · weekly Sun 01:00 · keep 8 weeks');
    expect(baseScheduleLabel(row({ retentionDays: 7 }))).toBe('Base backup · weekly Sun 01:00 · keep 1 week');
  });
  it('shows another cron as it is', () => {
    expect(baseScheduleLabel(row({ cron: '0 3 * * 6', retentionDays: null }))).toBe('Base backup · 0 3 * * 6 · keep forever');
  });
});
