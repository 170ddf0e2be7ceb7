/** The outcome of one `hsi doctor` check, shared by the runner (doctor.ts) and the checks. */

export type CheckStatus = 'ok' | 'fail' | 'skip';

export interface CheckResult {
  status: CheckStatus;
  /** What was found, on the check's line. */
  detail: string;
  /** What to do about a failure, on the line below it. */
  fix?: string;
}

export const ok = (detail: string): CheckResult => ({ status: 'ok', detail });
export const skip = (detail: string): CheckResult => ({ status: 'skip', detail });
export const fail = (detail: string, fix: string): CheckResult => ({ status: 'fail', detail, fix });
