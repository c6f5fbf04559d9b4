-- Retention marks a backup before it removes the first object (the manifest), naming the worker host that began, so a
-- run stopped halfway is finished by the next one (on that host, when nothing is left to see), and a backup whose
-- objects a human moved away is never mistaken for one retention half-removed. Null: no removal began.
ALTER TABLE "backup_log" ADD COLUMN "deleting_on" TEXT;
