-- Four eyes beyond restores: a request may be a production restore, a rollback, or switching the approval setting off;
-- every request expires (the setting in force when it was made), and its requester may withdraw it.
ALTER TABLE "restore_requests" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'restore';
ALTER TABLE "restore_requests" ADD COLUMN "expires_at" TIMESTAMPTZ(3);
-- Requests made before expiry existed get the default 24 hours.
UPDATE "restore_requests" SET "expires_at" = "requested_at" + interval '24 hours';
ALTER TABLE "restore_requests" ALTER COLUMN "expires_at" SET NOT NULL;
CREATE INDEX "restore_requests_job_id_idx" ON "restore_requests"("job_id");
