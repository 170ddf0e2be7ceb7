import { execFile } from 'node:child_process';
import { type Clock, systemClock, type TimerHandle } from '../../lib/clock.js';
import { errorMessage } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Db } from '../../storage/database.js';
import { insertGpuStats, type NewGpuStat } from '../../storage/gpu-stats.repository.js';

/**
 * GPU telemetry: samples `nvidia-smi` every `intervalMs`, stores one `gpu_stats` row per GPU, and keeps the latest
 * sample in memory for the MQTT sensors. Without `nvidia-smi` (no NVIDIA GPU, a CPU-only container) the sampler
 * disables itself with one info line. Sampling never throws: failures are logged once until the next success.
 */

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw',
  '--format=csv,noheader,nounits',
] as const;

/** One GPU in one sample, as `nvidia-smi` reports it (null where it says `[N/A]` or `[Not Supported]`). */
export interface GpuSample {
  gpuName: string | null;
  /** Percent. */
  gpuUtilization: number | null;
  /** MiB. */
  memoryUsed: number | null;
  memoryTotal: number | null;
  /** Degrees Celsius. */
  temperature: number | null;
  /** Watts. */
  powerUsage: number | null;
}

export interface GpuReading {
  at: Date;
  gpus: GpuSample[];
  /** Detector throughput at that time, when known. */
  inferenceFps: number | null;
}

function numberOrNull(field: string): number | null {
  const text = field.trim();
  if (text === '' || text.startsWith('[')) return null; // [N/A], [Not Supported], [Unknown Error]
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/**
 * Parses `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` output: one line per GPU, the five numbers last
 * (a GPU name may itself contain commas). Blank and malformed lines are skipped. Pure.
 */
export function parseNvidiaSmi(output: string): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const raw of output.split(/\r?\n/)) {
    const fields = raw.split(',');
    if (raw.trim() === '' || fields.length < 6) continue;
    const [utilization, used, total, temperature, power] = fields.slice(-5).map(numberOrNull);
    const name = fields.slice(0, -5).join(',').trim();
    const mib = (value: number | null | undefined) =>
      value === null || value === undefined ? null : Math.round(value);
    samples.push({
      gpuName: name === '' || name.startsWith('[') ? null : name,
      gpuUtilization: utilization ?? null,
      memoryUsed: mib(used),
      memoryTotal: mib(total),
      temperature: temperature ?? null,
      powerUsage: power ?? null,
    });
  }
  return samples;
}

/** Runs a program and resolves with its stdout; rejects with the error (`code: 'ENOENT'` when it does not exist). */
export type ExecFn = (file: string, args: readonly string[]) => Promise<string>;

export const execFileText: ExecFn = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 10_000, encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });

export interface GpuSamplerOptions {
  db: Db;
  log: Logger;
  /** Default: the system clock. */
  clock?: Clock;
  /** Between samples (e.g. 10000). */
  intervalMs: number;
  /** Path or name of `nvidia-smi` (default 'nvidia-smi', found on PATH). */
  nvidiaSmi?: string;
  exec?: ExecFn;
  /** Detector throughput (images/s) to store with each sample. */
  inferenceFps?: () => number | null;
}

export interface GpuSampler {
  /** The newest reading; undefined before the first one or when disabled. */
  latest(): GpuReading | undefined;
  /** False once `nvidia-smi` was found missing. */
  enabled(): boolean;
  stop(): Promise<void>;
}

/** Takes a first sample at once, then one every `intervalMs`. */
export function startGpuSampler(options: GpuSamplerOptions): GpuSampler {
  const { db, log } = options;
  const clock = options.clock ?? systemClock;
  const exec = options.exec ?? execFileText;
  const command = options.nvidiaSmi ?? 'nvidia-smi';
  let reading: GpuReading | undefined;
  let disabled = false;
  let stopped = false;
  let failing = false;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;

  const sample = async () => {
    let output: string;
    try {
      output = await exec(command, NVIDIA_SMI_ARGS);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        disabled = true;
        log.info({ command }, 'nvidia-smi not found: GPU statistics disabled');
      } else if (!failing) {
        failing = true;
        log.warn({ command, err: errorMessage(error) }, 'nvidia-smi failed; GPU statistics paused until it works');
      }
      return;
    }
    const gpus = parseNvidiaSmi(output);
    const at = new Date(clock.now());
    const inferenceFps = options.inferenceFps?.() ?? null;
    reading = { at, gpus, inferenceFps };
    const rows: NewGpuStat[] = gpus.map((g) => ({ ...g, recordedAt: at, inferenceFps }));
    try {
      await insertGpuStats(db, rows);
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ err: error }, 'GPU statistics not stored');
      failing = true;
    }
  };
  // Fixed rate: the next sample is due `intervalMs` after this one started; a sample still running skips a turn.
  const loop = () => {
    if (stopped) return;
    timer = clock.setTimeout(loop, options.intervalMs);
    if (running !== undefined) return;
    running = sample()
      .catch((error: unknown) => log.warn({ err: error }, 'GPU sample failed'))
      .finally(() => {
        running = undefined;
        if (disabled && timer !== undefined) clock.clearTimeout(timer);
      });
  };
  loop();
  return {
    latest: () => reading,
    enabled: () => !disabled,
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      await running;
    },
  };
}
