import type { DbOrTx } from './database.js';
import type { GpuStatsRow } from './tables/gpu-stats.table.js';

/** One GPU in one sample: MiB, degrees Celsius, watts, percent; null where the driver has no value. */
export interface GpuStat {
  id: number;
  recordedAt: Date;
  gpuName: string | null;
  gpuUtilization: number | null;
  memoryUsed: number | null;
  memoryTotal: number | null;
  temperature: number | null;
  powerUsage: number | null;
  inferenceFps: number | null;
}

export type NewGpuStat = Omit<GpuStat, 'id'>;

export function gpuStatsRowToStat(row: GpuStatsRow): GpuStat {
  return {
    id: row.id,
    recordedAt: row.recorded_at,
    gpuName: row.gpu_name,
    gpuUtilization: row.gpu_utilization,
    memoryUsed: row.memory_used,
    memoryTotal: row.memory_total,
    temperature: row.temperature,
    powerUsage: row.power_usage,
    inferenceFps: row.inference_fps,
  };
}

export async function insertGpuStats(db: DbOrTx, stats: readonly NewGpuStat[]): Promise<void> {
  if (stats.length === 0) return;
  await db
    .insertInto('gpu_stats')
    .values(
      stats.map((s) => ({
        recorded_at: s.recordedAt,
        gpu_name: s.gpuName,
        gpu_utilization: s.gpuUtilization,
        memory_used: s.memoryUsed,
        memory_total: s.memoryTotal,
        temperature: s.temperature,
        power_usage: s.powerUsage,
        inference_fps: s.inferenceFps,
      })),
    )
    .execute();
}

/** Samples oldest first (for charts), optionally since a time; `limit` 1..10000, default 1000 (the newest ones). */
export async function listGpuStats(db: DbOrTx, options: { since?: Date; limit?: number } = {}): Promise<GpuStat[]> {
  let q = db.selectFrom('gpu_stats').selectAll();
  if (options.since !== undefined) q = q.where('recorded_at', '>=', options.since);
  const rows = await q
    .orderBy('recorded_at', 'desc')
    .orderBy('id', 'desc')
    .limit(Math.min(10_000, Math.max(1, Math.trunc(options.limit ?? 1000))))
    .execute();
  return rows.reverse().map(gpuStatsRowToStat);
}

/**
 * The newest sample (one row per GPU, in the order `nvidia-smi` listed them) if it was recorded at or after `since`;
 * empty when there is none that fresh. The MQTT bridge reads it, so it works when another process samples.
 */
export async function latestGpuSample(db: DbOrTx, since: Date): Promise<GpuStat[]> {
  const newest = await db
    .selectFrom('gpu_stats')
    .select('recorded_at')
    .where('recorded_at', '>=', since)
    .orderBy('recorded_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (newest === undefined) return [];
  const rows = await db
    .selectFrom('gpu_stats')
    .selectAll()
    .where('recorded_at', '=', newest.recorded_at)
    .orderBy('id', 'asc')
    .execute();
  return rows.map(gpuStatsRowToStat);
}

/** Removes samples recorded before `before`; returns how many. */
export async function deleteGpuStatsBefore(db: DbOrTx, before: Date): Promise<number> {
  const result = await db.deleteFrom('gpu_stats').where('recorded_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
