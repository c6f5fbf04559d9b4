-- Restores: hooks around a production swap, and restore drills (the RTO evidence).
ALTER TABLE "targets" ADD COLUMN "pre_restore_hook" TEXT, ADD COLUMN "post_restore_hook" TEXT;

CREATE TABLE "drills" (
    "id" UUID NOT NULL,
    "target_id" UUID,
    "backup_id" BIGINT,
    "job_id" UUID,
    "status" TEXT NOT NULL DEFAULT 'running',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "restore_ms" INTEGER,
    "checks" JSONB,
    "error_code" TEXT,
    "error" TEXT,
    CONSTRAINT "drills_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "drills_target_id_started_at_idx" ON "drills"("target_id", "started_at" DESC);
ALTER TABLE "drills" ADD CONSTRAINT "drills_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "targets"("id") ON DELETE SET NULL ON UPDATE CASCADE;
