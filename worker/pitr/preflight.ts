// preflight: on this worker host, before anything is written: the server programs of the base backup's major, a
// free port (the one asked for, or the first free from 55432 upward), and free disk in the destination folder for
// the restored size (the uncompressed bytes verification read, plus room for WAL).
import { existsSync, readdirSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { UserError } from '../../lib/errors';
import { findServerBinDir } from '../pg/server-bin';

export const FIRST_PORT = 55432;
const LAST_PORT = 55532;

/** True when nothing listens on 127.0.0.1:port (and it may be bound). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function choosePort(asked: number | undefined): Promise<number> {
  if (asked !== undefined) {
    if (!(await portIsFree(asked))) throw new UserError('PITR_PORT_IN_USE', `Port ${asked} is in use on this worker host; the recovered server cannot listen there.`, undefined, { port: 'is in use' });
    return asked;
  }
  for (let p = FIRST_PORT; p <= LAST_PORT; p++) if (await portIsFree(p)) return p;
  throw new UserError('PITR_PORT_IN_USE', `No free port from ${FIRST_PORT} to ${LAST_PORT} on this worker host.`, 'Stop or remove recovered servers that are no longer needed, or give a port.');
}

export async function requireServerBinaries(major: number, signal: AbortSignal): Promise<string> {
  const { binDir, looked } = await findServerBinDir(major, signal);
  if (!binDir) {
    throw new UserError('PITR_NO_SERVER_BINARIES', `This worker host has no PostgreSQL ${major} server programs (looked in ${looked.join(', ')}); the base backup was taken from PostgreSQL ${major}.`, `Install them on the worker host (apt-get install postgresql-${major}) or set LIFEBOAT_PG_SERVER_BIN_${major} to their bin folder, then run the recovery again.`);
  }
  return binDir;
}

/** Refuses a destination that exists and is not empty; returns the free bytes of the file system it goes on. */
export async function checkDestination(folder: string, neededBytes: number): Promise<{ freeBytes: number }> {
  if (existsSync(folder) && readdirSync(folder).length > 0) {
    throw new UserError('PITR_DESTINATION_EXISTS', `The destination folder ${folder} exists and is not empty.`, undefined, { destination: 'exists and is not empty' });
  }
  let probe = folder;
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  const st = await statfs(probe);
  const freeBytes = st.bavail * st.bsize;
  if (freeBytes < neededBytes) {
    const mb = (n: number) => `${Math.ceil(n / 1e6)} MB`;
    throw new UserError('DISK_FULL', `The destination ${folder} has ${mb(freeBytes)} free; the recovered server needs about ${mb(neededBytes)} (the base backup's uncompressed size plus room for WAL).`, 'Free space there or choose another destination folder, then run the recovery again.');
  }
  return { freeBytes };
}
