// Every TanStack Query key in one place, so mutations invalidate exactly what they change.
export const queryKeys = {
  overview: ['overview'] as const,
  jobs: (filter: Record<string, string | undefined> = {}) => ['jobs', filter] as const,
  jobsAll: ['jobs'] as const,
  job: (id: string) => ['job', id] as const,
  users: ['users'] as const,
  audit: (filter: Record<string, string | undefined> = {}) => ['audit', filter] as const,
  targets: ['targets'] as const,
  target: (id: string) => ['target', id] as const,
  trend: (id: string) => ['trend', id] as const,
  wal: (id: string) => ['wal', id] as const,
  window: (id: string) => ['window', id] as const,
  backups: (filter: Record<string, string | undefined> = {}) => ['backups', filter] as const,
  backupsAll: ['backups'] as const,
  backup: (id: string) => ['backup', id] as const,
  storages: ['storages'] as const,
  cronPreview: (cron: string, tz: string) => ['cron-preview', cron, tz] as const,
};
