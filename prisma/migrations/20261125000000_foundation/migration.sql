-- Lifeboat foundation: users and sign-in throttling, workers, targets, jobs and their logs,
-- the append-only audit log, the runbook's backup_log, settings.

CREATE TYPE "role" AS ENUM ('viewer', 'operator', 'admin');
CREATE TYPE "job_status" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');
CREATE TYPE "backup_status" AS ENUM ('running', 'succeeded', 'failed', 'cancelled');

CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "password_hash" TEXT,
    "role" "role" NOT NULL DEFAULT 'viewer',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_login_at" TIMESTAMPTZ(3),
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

CREATE TABLE "auth_throttle" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "first_failure_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_failure_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_until" TIMESTAMPTZ(3),
    CONSTRAINT "auth_throttle_pkey" PRIMARY KEY ("key")
);

CREATE TABLE "workers" (
    "id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "version" TEXT NOT NULL,
    "pool" TEXT NOT NULL DEFAULT 'default',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stopped_at" TIMESTAMPTZ(3),
    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "workers_last_seen_at_idx" ON "workers"("last_seen_at" DESC);

CREATE TABLE "targets" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 5432,
    "db_user" TEXT NOT NULL,
    "password_enc" TEXT,
    "ssl_mode" TEXT NOT NULL DEFAULT 'prefer',
    "database" TEXT,
    "worker_pool" TEXT NOT NULL DEFAULT 'default',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "targets_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "targets_name_key" ON "targets"("name");

CREATE TABLE "jobs" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "queue" TEXT NOT NULL,
    "status" "job_status" NOT NULL DEFAULT 'queued',
    "payload" JSONB NOT NULL DEFAULT '{}',
    "result" JSONB,
    "step" TEXT,
    "progress" DOUBLE PRECISION,
    "progress_detail" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "error_hint" TEXT,
    "error_detail" TEXT,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "partial_paths" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "boss_job_id" UUID,
    "worker_id" UUID,
    "target_id" UUID,
    "created_by_id" UUID,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "jobs_status_idx" ON "jobs"("status");
CREATE INDEX "jobs_created_at_idx" ON "jobs"("created_at" DESC);
CREATE INDEX "jobs_kind_created_at_idx" ON "jobs"("kind", "created_at" DESC);

CREATE TABLE "job_logs" (
    "id" BIGSERIAL NOT NULL,
    "job_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "level" TEXT NOT NULL DEFAULT 'info',
    "line" TEXT NOT NULL,
    CONSTRAINT "job_logs_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "job_logs_job_id_id_idx" ON "job_logs"("job_id", "id");

CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" UUID,
    "actor_email" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT,
    "entity_id" TEXT,
    "params" JSONB NOT NULL DEFAULT '{}',
    "ip" TEXT,
    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at" DESC);
CREATE INDEX "audit_log_action_at_idx" ON "audit_log"("action", "at" DESC);

CREATE TABLE "backup_log" (
    "id" BIGSERIAL NOT NULL,
    "backup_type" TEXT NOT NULL,
    "backup_file" TEXT NOT NULL,
    "backup_size" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" "backup_status" NOT NULL DEFAULT 'running',
    "target_id" UUID,
    "schedule_id" UUID,
    "job_id" UUID,
    "database_name" TEXT,
    "duration_ms" INTEGER,
    "checksum_sha256" TEXT,
    "location" TEXT,
    "server_version" TEXT,
    "tool_version" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "backup_log_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "backup_log_created_at_idx" ON "backup_log"("created_at" DESC);
CREATE INDEX "backup_log_target_id_created_at_idx" ON "backup_log"("target_id", "created_at" DESC);
CREATE INDEX "backup_log_status_created_at_idx" ON "backup_log"("status", "created_at" DESC);

CREATE TABLE "settings" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

ALTER TABLE "jobs" ADD CONSTRAINT "jobs_worker_id_fkey" FOREIGN KEY ("worker_id") REFERENCES "workers"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "targets"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "job_logs" ADD CONSTRAINT "job_logs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_actor_id_fkey" FOREIGN KEY ("actor_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "backup_log" ADD CONSTRAINT "backup_log_target_id_fkey" FOREIGN KEY ("target_id") REFERENCES "targets"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "backup_log" ADD CONSTRAINT "backup_log_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The audit log is evidence: once written, an entry is never changed or removed.
CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "audit_log_no_update" BEFORE UPDATE OR DELETE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"();
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "audit_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_log_append_only"();
