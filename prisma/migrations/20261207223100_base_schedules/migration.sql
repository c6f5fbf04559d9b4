-- Base-backup schedules (kind 'base', issue 10): the pg_basebackup compression they ask for; NULL is the base-backup
-- job's default. Logical and drill schedules leave it NULL. Their retention is kept in retention_days (weeks * 7).
ALTER TABLE "schedules" ADD COLUMN "base_compression" TEXT;
