// The error a failed program raises: a UserError whose stderr tail travels to the job row (errorDetail).
import { UserError, type ErrorCode } from '../errors';

/** An error from a tool: the stderr tail travels to the job row. */
export class ToolError extends UserError {
  readonly detail: string;
  constructor(code: ErrorCode, message: string, detail: string, hint?: string) {
    super(code, message, hint);
    this.detail = detail;
  }
}
