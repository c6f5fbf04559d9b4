-- Logical backups: storages, target settings (key tables, checks, storage), schedules, and backup_log details.

CREATE TABLE "storages" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'local',
    "path" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "storages_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "storages_name_key" ON "storages"("name");

ALTER TABLE "targets"
    ADD COLUMN "key_tables" TEXT[] DEFAULT ARRAY[]::TEXT[],
    ADD COLUMN "check_statements" TEXT[] DEFAULT ARRAY[]::TEXT[],
    ADD COLUMN "storage_id" UUID,
    ADD COLUMN "last_check" JSONB;

CREATE TABLE "schedules" (
    "id" UUID NOT NULL,
    "target_id" UUID NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'logical',
    "cron" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "format" TEXT NOT NULL DEFAULT 'custom-zstd',
    "compress_level" INTEGER NOT NULL DEFAULT 0,
    "zstd_level" INTEGER NOT NULL DEFAULT 3,
    "retention_days" INTEGER,
    "retention_count" INTEGER,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "next_run_at" TIMESTAMPTZ(3),
    "last_run_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "schedules_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "schedules_enabled_next_run_at_idx" ON "schedules"("enabled", "next_run_at");

ALTER TABLE "backup_log"
    ADD COLUMN "format" TEXT,
    ADD COLUMN "storage_id" UUID,
    ADD COLUMN "manifest" JSONB,
    ADD COLUMN "key_table_counts" JSONB,
    ADD COLUMN "globals_file" TEXT,
    ADD COLUMN "verified_at" TIMESTAMPTZ(3),
    ADD COLUMN "deleted_at" TIMESTAMPTZ(3);
CREATE INDEX "backup_log_backup_type_created_at_idx" ON "backup_log"("backup_type", "created_at" DESC);

ALTER TABLE "targets" ADD CONSTRAINT "targets_storage_id_fkey" FOREIGN KEY ("storage_id") REFERENCES "storages"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "schedules" ADD CONSTRAINT "schedules_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "targets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "backup_log" ADD CONSTRAINT "backup_log_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedules"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "backup_log" ADD CONSTRAINT "backup_log_storage_id_fkey" FOREIGN KEY ("storage_id") REFERENCES "storages"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The lock that makes "one backup per target at a time" hold across consoles and workers: a second queued or
-- running backup job for the same target cannot be inserted. (Partial indexes are not expressible in schema.prisma.)
CREATE UNIQUE INDEX "jobs_one_active_backup_per_target" ON "jobs"("target_id")
    WHERE "kind" = 'backup' AND "status" IN ('queued', 'running');
