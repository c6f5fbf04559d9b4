// The static registry: one task a job kind.
import type { JobKindName } from '../../lib/jobs/kinds';
import type { JobContext } from '../../lib/jobs/lifecycle';
import { ping } from './ping';
import { backup } from './backup';
import { testConnection } from './test-connection';
import { restore, restorePreflight } from './restore';
import { drill } from './drill';
import { dropCopy, rollback } from './rollback';
import { repair } from './repair';
import { importUpload } from './import-upload';
import { download } from './download';
import { recoverCompare } from './recover-compare';
import { recoverReinsert } from './recover-reinsert';
import { recoverExport } from './recover-export';
import { recoverDiscard } from './recover-discard';
import { baseBackup } from './base-backup';
import { pitr } from './pitr';
import { pitrDiscard } from './pitr-discard';
import { restorePoint } from './restore-point';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const tasks: Record<JobKindName, (ctx: JobContext<any>) => Promise<unknown>> = {
  ping,
  backup,
  'test-connection': testConnection,
  restore,
  'restore-preflight': restorePreflight,
  drill,
  rollback,
  'drop-copy': dropCopy,
  repair,
  'import-upload': importUpload,
  download,
  'recover-compare': recoverCompare,
  'recover-reinsert': recoverReinsert,
  'recover-export': recoverExport,
  'recover-discard': recoverDiscard,
  'base-backup': baseBackup,
  pitr,
  'pitr-discard': pitrDiscard,
  'restore-point': restorePoint,
};
