// A restore's failure told with what is true of production now: the error's code and tool output kept, its
// message completed (and its hint replaced when given).
import { UserError, type ErrorCode } from '../../lib/errors';
import { ToolError } from '../../lib/jobs/tool-error';

export function restate(err: unknown, extra: string, hint?: string, code?: ErrorCode): UserError {
  const c = code ?? (err instanceof UserError ? err.code : 'PRODUCTION_DROPPED');
  const message = `${err instanceof Error ? err.message : String(err)} ${extra}`.trim();
  if (err instanceof ToolError) return new ToolError(c, message, err.detail, hint ?? err.hint);
  return new UserError(c, message, hint ?? (err instanceof UserError ? err.hint : undefined));
}
