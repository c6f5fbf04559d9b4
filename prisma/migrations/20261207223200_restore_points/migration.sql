-- Named restore points (issue 10): created on a target by pg_create_restore_point from the console, each with the
-- WAL position the server answered; the recoverable window shows them as flags, a recovery can stop at one by name.
CREATE TABLE "restore_points" (
    "id" BIGSERIAL NOT NULL,
    "target_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "lsn" TEXT NOT NULL,
    "timeline_id" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by_id" UUID,
    "created_by" TEXT NOT NULL,
    "job_id" UUID,

    CONSTRAINT "restore_points_pkey" PRIMARY KEY ("id")
);

-- recovery_target_name stops at the first point of that name: one name once per target.
CREATE UNIQUE INDEX "restore_points_target_id_name_key" ON "restore_points"("target_id", "name");
CREATE INDEX "restore_points_target_id_created_at_idx" ON "restore_points"("target_id", "created_at" DESC);

ALTER TABLE "restore_points" ADD CONSTRAINT "restore_points_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "targets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
