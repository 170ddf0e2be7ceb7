import { defineFeature, type Feature } from '../../feature.js';
import { gpuComponentSource } from './gpu-entities.js';
import { gpuRoutes } from './gpu-routes.js';
import { startGpuSampler } from './gpu-sampler.js';

/**
 * GPU statistics: `nvidia-smi` sampled every 30 s in the detecting process (it disables itself where there is no
 * NVIDIA GPU) into `gpu_stats`; Home Assistant sensors per GPU on the hub once one is seen; `GET /api/gpu`.
 */
export function gpuStatsFeature(): Feature {
  return defineFeature({
    name: 'gpu-stats',
    roles: ['detect'],
    haComponents: (config) => [gpuComponentSource(config.mqtt.base_topic)],
    routes: () => [gpuRoutes],
    async start(ctx, stop) {
      const gpu = startGpuSampler({
        db: ctx.db,
        log: ctx.log.child({ component: 'gpu' }),
        clock: ctx.clock,
        intervalMs: 30_000,
      });
      stop.push('gpu sampler', () => gpu.stop());
    },
  });
}
