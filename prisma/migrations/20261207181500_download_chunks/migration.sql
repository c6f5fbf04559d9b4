-- Downloads streamed by a worker through the console database (the web process never opens a storage): the size
-- the worker found, then the bytes in chunks, a few ahead of the route that sends and deletes them.
CREATE TABLE "downloads" (
    "job_id" UUID NOT NULL,
    "size" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "downloads_pkey" PRIMARY KEY ("job_id")
);

CREATE TABLE "download_chunks" (
    "job_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,
    CONSTRAINT "download_chunks_pkey" PRIMARY KEY ("job_id","seq")
);

ALTER TABLE "downloads" ADD CONSTRAINT "downloads_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "download_chunks" ADD CONSTRAINT "download_chunks_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "downloads"("job_id") ON DELETE CASCADE ON UPDATE CASCADE;
