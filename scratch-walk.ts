import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArchiveChecker } from './worker/pg/archive-check';
const c = new ArchiveChecker();
const t0 = process.cpuUsage();
await pipeline(createReadStream(process.argv[2]!, { highWaterMark: 1 << 20 }), c); console.log(await c.summary());
const t = process.cpuUsage(t0); console.log('checker cpu', (t.user + t.system) / 1e6);
