-- A job's time limit in seconds, computed once when it is enqueued (from its kind and the console's environment) and
-- read by the worker that claims it, so the console and the worker can never disagree. Rows from before: 6 hours.
ALTER TABLE "jobs" ADD COLUMN "timeout_seconds" INTEGER NOT NULL DEFAULT 21600;
