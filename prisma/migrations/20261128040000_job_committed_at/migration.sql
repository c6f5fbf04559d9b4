-- The point of no return of a job (e.g. an in-place restore dropped production): past it a cancel is refused.
ALTER TABLE "jobs" ADD COLUMN "committed_at" TIMESTAMPTZ(3);
