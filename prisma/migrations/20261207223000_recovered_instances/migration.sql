-- Point-in-time recovery (issue 10): each server a pitr job started on a worker host, so it can be listed, and stopped
-- and removed (pitr-discard). Never production: a recovered copy on its own port and data folder.
CREATE TABLE "recovered_instances" (
    "id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "target_id" UUID,
    "backup_id" BIGINT,
    "host" TEXT NOT NULL,
    "data_dir" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "removed_at" TIMESTAMPTZ(3),

    CONSTRAINT "recovered_instances_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "recovered_instances_status_check" CHECK ("status" IN ('running', 'stopped', 'removed'))
);

CREATE UNIQUE INDEX "recovered_instances_job_id_key" ON "recovered_instances"("job_id");
CREATE INDEX "recovered_instances_target_id_created_at_idx" ON "recovered_instances"("target_id", "created_at" DESC);
