/** The outcome of one `hsi doctor` check, shared by the runner (doctor.ts) and the checks. */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** What was found, on the check's line. */
  detail: string;
  /** What to do about a failure or a warning, on the line below it. */
  fix?: string;
}

export const ok = (detail: string): CheckResult => ({ status: 'ok', detail });
/** Works, but something is worth knowing or doing; does not fail the report. */
export const warn = (detail: string, fix?: string): CheckResult =>
  fix === undefined ? { status: 'warn', detail } : { status: 'warn', detail, fix };
export const skip = (detail: string): CheckResult => ({ status: 'skip', detail });
export const fail = (detail: string, fix: string): CheckResult => ({ status: 'fail', detail, fix });
