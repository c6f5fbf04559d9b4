// The worker's scratch folder: its code lives in lib/jobs/scratch.ts, beside the job lifecycle and the sweep that use it
// (lib must not import worker); this name stays for the worker's side.
export { jobScratchPath, listJobScratch, makeJobScratch, removeJobScratch, scratchRoot } from '../lib/jobs/scratch';
