// Recovering deleted rows: the scratch database beside production (its name, its creation with production's locale)
// and the sweep of expired copies and their exports, which the next recovery job on the same server runs.
import type pg from 'pg';
import { getDb } from '../../lib/db';
import { UserError } from '../../lib/errors';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { SCRATCH_TTL_MS } from '../../lib/recoveries/comparison';
import { databaseExists, dropDatabase, fitName, stamp } from '../restore/database-ops';
import { createScratchSql, databaseLocaleSql, SCRATCH_DATABASES_SQL, scratchMadeAt, type DatabaseLocale } from './catalog-sql';
import { removeExports } from './exports';

/** Creates the scratch database with production's encoding and locale, so text keys sort the same way in both. */
export async function createScratch(admin: pg.Client, production: string, name: string, versionNum: number): Promise<void> {
  const d = (await admin.query<DatabaseLocale>(databaseLocaleSql(versionNum), [production])).rows[0];
  if (!d) throw new UserError('TARGET_DATABASE_MISSING', `Production "${production}" does not exist on the server.`);
  await admin.query(createScratchSql(name, d));
}

/** A free scratch name `<db>_recover_<stamp>` (a second comparison in the same second waits for the next one). */
export async function scratchName(admin: pg.Client, production: string): Promise<string> {
  for (let i = 0; ; i++) {
    const name = fitName(production, `_recover_${stamp()}`);
    if (!(await databaseExists(admin, name))) return name;
    if (i >= 3) throw new UserError('DESTINATION_EXISTS', `A database named "${name}" already exists.`);
    await new Promise((r) => setTimeout(r, 1100));
  }
}

/**
 * Scratch copies older than 24 hours are dropped by the next recovery job on the same server (the worker has no
 * timer of its own for them); their export files go too.
 */
export async function dropExpiredScratch(ctx: JobContext<unknown>, admin: pg.Client, targetId: string, keep?: string): Promise<void> {
  const now = Date.now();
  const rows = (await admin.query<{ datname: string }>(SCRATCH_DATABASES_SQL)).rows;
  for (const { datname } of rows) {
    const at = scratchMadeAt(datname);
    if (at === null || datname === keep) continue;
    if (now - at <= SCRATCH_TTL_MS) continue;
    await dropDatabase(admin, datname).then(
      () => ctx.log(`dropped the expired scratch copy "${datname}" (made ${new Date(at).toISOString()})`),
      (err) => ctx.log(`could not drop the expired scratch copy "${datname}": ${(err as Error).message}`, 'warn'),
    );
  }
  // Their exports: comparisons of this target whose copies have expired (a week back is enough to catch them all).
  const expired = await getDb().job.findMany({
    where: { kind: 'recover-compare', targetId, status: 'succeeded', finishedAt: { lt: new Date(now - SCRATCH_TTL_MS), gt: new Date(now - 7 * SCRATCH_TTL_MS) } },
    select: { id: true, payload: true },
  });
  for (const j of expired) await removeExports(j.id, (j.payload as { backupId: string }).backupId);
}
