-- Production restores that wait for a second admin's approval (when the setting requires it).
CREATE TABLE "restore_requests" (
    "id" UUID NOT NULL,
    "payload" JSONB NOT NULL,
    "target_id" UUID,
    "database" TEXT NOT NULL,
    "requested_by_id" UUID NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" TEXT NOT NULL DEFAULT 'requested',
    "decided_by_id" UUID,
    "decided_at" TIMESTAMPTZ(3),
    "reason" TEXT,
    "job_id" UUID,
    CONSTRAINT "restore_requests_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "restore_requests_status_requested_at_idx" ON "restore_requests"("status", "requested_at" DESC);
