import type { Feature } from '../../feature.js';
import { startGpuSampler } from '../../ops/gpu-stats.js';

/** GPU statistics: `nvidia-smi` sampled every 30 s in the detecting process, stored in `gpu_stats`. */
export function gpuStatsFeature(): Feature {
  let stop: (() => Promise<void>) | undefined;
  return {
    name: 'gpu-stats',
    roles: ['detect'],
    enabled: () => true,
    async start(ctx) {
      const gpu = startGpuSampler({
        db: ctx.db,
        log: ctx.log.child({ component: 'gpu' }),
        clock: ctx.clock,
        intervalMs: 30_000,
      });
      stop = () => gpu.stop();
    },
    async stop() {
      await stop?.();
    },
  };
}
