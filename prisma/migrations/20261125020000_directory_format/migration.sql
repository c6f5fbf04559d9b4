-- Directory-format backups: how many pg_dump processes a schedule runs in parallel.
ALTER TABLE "schedules" ADD COLUMN "jobs" INTEGER NOT NULL DEFAULT 2;
