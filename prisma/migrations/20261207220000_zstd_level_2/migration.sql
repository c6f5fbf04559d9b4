-- New schedules compress with zstd -2 by default (was -3): on this project's 2-core machines level 2 takes about a
-- fifth less CPU for a file about 3 % larger, still smaller than the runbook's gzip -9 (README, Benchmarks).
-- Existing schedules keep the level they have.
ALTER TABLE "schedules" ALTER COLUMN "zstd_level" SET DEFAULT 2;
