import { sql } from 'kysely';
import type { DbOrTx } from './database.js';
import type { JobRow, JobStatus } from './tables/job.table.js';

export type { JobStatus } from './tables/job.table.js';

/** A background job run by HSI itself (retention, reprocess, import): what it did, how far it got. */
export interface JobRecord {
  id: string;
  jobType: string;
  status: JobStatus;
  /** Percent 0-100. */
  progress: number;
  message: string | null;
  error: string | null;
  result: Record<string, unknown> | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
}

export function jobRowToRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    jobType: row.job_type,
    status: row.status,
    progress: row.progress,
    message: row.message,
    error: row.error,
    result: (row.result as Record<string, unknown> | null) ?? null,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}

const percent = (value: number) => Math.min(100, Math.max(0, Math.round(value)));
const json = (value: Record<string, unknown> | null | undefined) =>
  value === undefined ? undefined : value === null ? null : JSON.stringify(value);

/** Records a job as `running` from `startedAt`. */
export async function startJob(
  db: DbOrTx,
  job: { id: string; jobType: string; startedAt: Date; message?: string | null; result?: Record<string, unknown> },
): Promise<JobRecord> {
  const row = await db
    .insertInto('jobs')
    .values({
      id: job.id,
      job_type: job.jobType,
      status: 'running',
      progress: 0,
      message: job.message ?? null,
      error: null,
      result: json(job.result) ?? null,
      started_at: job.startedAt,
      completed_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return jobRowToRecord(row);
}

export interface JobUpdate {
  status?: JobStatus;
  progress?: number;
  message?: string | null;
  error?: string | null;
  result?: Record<string, unknown> | null;
  completedAt?: Date | null;
}

export async function updateJob(db: DbOrTx, id: string, update: JobUpdate): Promise<void> {
  const result = json(update.result);
  await db
    .updateTable('jobs')
    .set({
      ...(update.status === undefined ? {} : { status: update.status }),
      ...(update.progress === undefined ? {} : { progress: percent(update.progress) }),
      ...(update.message === undefined ? {} : { message: update.message }),
      ...(update.error === undefined ? {} : { error: update.error }),
      ...(result === undefined ? {} : { result }),
      ...(update.completedAt === undefined ? {} : { completed_at: update.completedAt }),
    })
    .where('id', '=', id)
    .execute();
}

export async function getJob(db: DbOrTx, id: string): Promise<JobRecord | undefined> {
  const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : jobRowToRecord(row);
}

/** Newest first; `limit` 1..1000, default 50. */
export async function listJobs(db: DbOrTx, options: { jobType?: string; limit?: number } = {}): Promise<JobRecord[]> {
  let q = db.selectFrom('jobs').selectAll();
  if (options.jobType !== undefined) q = q.where('job_type', '=', options.jobType);
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(1000, Math.max(1, Math.trunc(options.limit ?? 50))))
    .execute();
  return rows.map(jobRowToRecord);
}

/** The newest unfinished (`running` or `failed`) job of a type whose `result.target` is `target`: a run to resume. */
export async function findUnfinishedJob(db: DbOrTx, jobType: string, target: string): Promise<JobRecord | undefined> {
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('job_type', '=', jobType)
    .where('status', 'in', ['running', 'failed'])
    .where(sql<string>`result ->> 'target'`, '=', target)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return row === undefined ? undefined : jobRowToRecord(row);
}
