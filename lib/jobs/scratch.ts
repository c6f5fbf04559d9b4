// The worker's scratch folder (LIFEBOAT_SCRATCH_DIR, default <LIFEBOAT_DATA_DIR>/scratch): temporary files a job
// needs on this host (decompressed archives, directory-format staging, passfiles), never in a storage. Each job
// gets <scratch>/<jobId>, removed when the job ends and by the crash sweep. It lives in lib/ beside the job lifecycle
// (ctx.scratch) and the sweep that use it, which must not import from worker/; only a worker process calls it.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The scratch root of this worker host. */
export function scratchRoot(): string {
  const dir = process.env.LIFEBOAT_SCRATCH_DIR || join(process.env.LIFEBOAT_DATA_DIR || join(process.cwd(), '.lifeboat'), 'scratch');
  return resolve(dir);
}

/** Job ids are the only names in the root; anything else there is left alone. */
const JOB_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** The folder of one job (not created). */
export function jobScratchPath(jobId: string): string {
  if (!JOB_ID.test(jobId)) throw new Error(`not a job id: ${jobId}`);
  return join(scratchRoot(), jobId);
}

/** Makes the job's folder (0700: passfiles and decompressed dumps live there) and returns its path. */
export async function makeJobScratch(jobId: string): Promise<string> {
  await mkdir(scratchRoot(), { recursive: true, mode: 0o700 });
  const dir = jobScratchPath(jobId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Removes the job's folder and everything in it (idempotent). */
export async function removeJobScratch(jobId: string): Promise<void> {
  await rm(jobScratchPath(jobId), { recursive: true, force: true });
}

/** Job ids that have a folder in this host's scratch root. */
export async function listJobScratch(): Promise<string[]> {
  const names = await readdir(scratchRoot()).catch(() => [] as string[]);
  return names.filter((n) => JOB_ID.test(n)).sort();
}
