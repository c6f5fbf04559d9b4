// What the download route and the download worker agree on: the chunk size, how many chunks may wait in the console
// database, how long a browser may take nothing, and the sweep of rows a dead job left behind.
import { getDb } from '../db';
import { UserError } from '../errors';

/** Bytes a chunk row holds (the last one holds the rest). */
export const DOWNLOAD_CHUNK_BYTES = 4 << 20;
/** Chunks that may wait in the console database for the route: a slow browser makes the worker wait, not the table grow. */
export const DOWNLOAD_WINDOW = 4;
/** Downloads one worker streams at once (each waits on its browser, so one slow browser must not hold up the next). */
export const DOWNLOADS_AT_ONCE = 4;
/** A download whose browser takes nothing for this long is stopped (DOWNLOAD_STALLED). */
export const DOWNLOAD_STALL_MS = 10 * 60_000;
/** A download no worker has picked up after this long is given up (DOWNLOAD_NOT_STARTED). */
export const DOWNLOAD_START_MS = 30_000;

/** The pauses of a poll: short at first (the other side is usually quick), then up to a quarter of a second. */
export function* pollPauses(): Generator<number> {
  for (let ms = 10; ; ms = Math.min(ms * 2, 250)) yield ms;
}

/**
 * Deletes the rows of downloads whose job has ended (a worker that died mid-download cannot delete its own): the
 * sweep calls it. The chunks go with their download row.
 */
export async function deleteEndedDownloads(): Promise<number> {
  return getDb().$executeRaw`
    DELETE FROM downloads d USING jobs j WHERE j.id = d.job_id AND j.status NOT IN ('queued', 'running')`;
}

/** A directory-format dump is a folder of files in storage, not one file a browser can take. */
export function directoryDump(id: bigint | string, name: string, where: string | null): UserError {
  return new UserError(
    'BACKUP_NOT_DOWNLOADABLE',
    `Backup ${id} is a directory-format dump (a folder), which cannot be downloaded as one file.`,
    `Copy the folder ${name} from ${where ?? 'the storage'} on the worker host, or restore it from the console.`,
  );
}
