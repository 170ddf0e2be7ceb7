import type { Generated, Insertable, Selectable } from 'kysely';

/** One GPU in one `nvidia-smi` sample; null where the driver reports `[N/A]`. */
export interface GpuStatsTable {
  id: Generated<number>;
  recorded_at: Generated<Date>;
  gpu_name: string | null;
  /** Percent 0-100. */
  gpu_utilization: number | null;
  /** MiB. */
  memory_used: number | null;
  /** MiB. */
  memory_total: number | null;
  /** Degrees Celsius. */
  temperature: number | null;
  /** Watts. */
  power_usage: number | null;
  /** Images per second through the detector when the sample was taken. */
  inference_fps: number | null;
}

export type GpuStatsRow = Selectable<GpuStatsTable>;
export type NewGpuStatsRow = Insertable<GpuStatsTable>;
