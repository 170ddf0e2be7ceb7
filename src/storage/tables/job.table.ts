import type { Generated, Insertable, Selectable } from 'kysely';

export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobTable {
  id: string;
  job_type: string;
  status: Generated<JobStatus>;
  progress: Generated<number>;
  message: string | null;
  error: string | null;
  result: unknown | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  completed_at: Date | null;
}

export type JobRow = Selectable<JobTable>;
export type NewJob = Insertable<JobTable>;
