// Removing a recovered server (pitr-discard): stopped (fast, then immediate) and its folder removed, on the worker
// host that made it. Only a folder a pitr job recorded in recovered_instances: never the production server.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import type { JobPayload, JobResult } from '../../lib/jobs/kinds';
import { majorOf } from '../pitr/plan-job';
import { requireServerBinaries } from '../pitr/preflight';
import { removeFolder, stopServer } from '../pitr/server';

export async function pitrDiscard(ctx: JobContext<JobPayload<'pitr-discard'>>): Promise<JobResult<'pitr-discard'>> {
  const db = getDb();
  await ctx.step('stopping the recovered server');
  const instance = await db.recoveredInstance.findUnique({ where: { id: ctx.payload.instanceId } });
  if (!instance || instance.status === 'removed') throw new UserError('PITR_INSTANCE_NOT_FOUND', `There is no recovered server ${ctx.payload.instanceId}${instance ? ' any more (it was removed)' : ''}.`);
  if (instance.host !== os.hostname()) {
    throw new UserError('PITR_INSTANCE_NOT_FOUND', `The recovered server ${instance.id} runs on worker host "${instance.host}", not on "${os.hostname()}" which took this job.`, `Run the removal on a worker of host "${instance.host}".`);
  }
  const dataDir = path.join(instance.dataDir, 'data');
  let stopped = false;
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const major = majorOf(readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim());
    if (major !== null) stopped = await stopServer(await requireServerBinaries(major, ctx.signal), dataDir);
  }
  await db.recoveredInstance.update({ where: { id: instance.id }, data: { status: 'stopped' } });
  await ctx.step('removing its folder');
  const removed = existsSync(instance.dataDir);
  await removeFolder(instance.dataDir);
  await db.recoveredInstance.update({ where: { id: instance.id }, data: { status: 'removed', removedAt: new Date() } });
  await ctx.log(`${stopped ? 'stopped the server on port ' + instance.port + ' and ' : ''}removed ${instance.dataDir}`);
  return { instanceId: instance.id, dataDir: instance.dataDir, port: instance.port, stopped, removed };
}
