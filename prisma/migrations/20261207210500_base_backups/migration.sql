-- Physical base backups (backup_type 'base'): the WAL range and timeline a base backup needs to be made consistent
-- (from PostgreSQL's backup_manifest and the backup_label inside base.tar), the server's own start time and the
-- worker's stop time, and the result of checking every stored file against backup_manifest.
ALTER TABLE "backup_log" ADD COLUMN "start_lsn" TEXT;
ALTER TABLE "backup_log" ADD COLUMN "stop_lsn" TEXT;
ALTER TABLE "backup_log" ADD COLUMN "timeline_id" INTEGER;
ALTER TABLE "backup_log" ADD COLUMN "backup_started_at" TIMESTAMPTZ(3);
ALTER TABLE "backup_log" ADD COLUMN "backup_stopped_at" TIMESTAMPTZ(3);
ALTER TABLE "backup_log" ADD COLUMN "verification" JSONB;

-- One base backup per target at a time, as for logical backups (a second one would only queue checkpoints and
-- double the load on the server).
CREATE UNIQUE INDEX "jobs_one_active_base_backup_per_target" ON "jobs"("target_id")
    WHERE "kind" = 'base-backup' AND "status" IN ('queued', 'running');
