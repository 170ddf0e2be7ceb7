import type { DiscoveryInput } from '../../mqtt/discovery.js';
import { type Component, component, type Scope } from '../../mqtt/discovery-components.js';
import type { HaComponentSource } from '../../mqtt/ha-components.js';
import { gpuHealthTopic } from '../../mqtt/topics.js';
import { type GpuStat, latestGpuSample } from '../../storage/gpu-stats.repository.js';

/** A GPU sample older than this is stale (the sampler runs every 30 s, in whichever process detects). */
const GPU_FRESH_MS = 120_000;

/** One GPU of the newest sample, as stored in `gpu_stats`. */
export type GpuHealth = Omit<GpuStat, 'id'>;

/** Retained on `hsi/health/gpu`: the newest sample, GPUs in `nvidia-smi` order; the GPU sensors index into it. */
export function gpuHealthPayload(gpus: readonly GpuHealth[]) {
  return {
    recorded_at: gpus[0]?.recordedAt.toISOString() ?? null,
    inference_fps: gpus[0]?.inferenceFps ?? null,
    gpus: gpus.map((g, index) => ({
      index,
      name: g.gpuName,
      utilization_pct: g.gpuUtilization,
      memory_used_mib: g.memoryUsed,
      memory_total_mib: g.memoryTotal,
      temperature_c: g.temperature,
      power_w: g.powerUsage,
    })),
  };
}

/** GPU value as HA reads it; `None` (unknown) when the sample lacks that GPU or the driver has no value. */
const gpuValue = (index: number, field: string) =>
  `{{ ((value_json.gpus | default([]))[${index}] | default({})).${field} | default(None) }}`;

/** Utilisation, memory, temperature and power of each of `count` GPUs, from `hsi/health/gpu` (diagnostic). Pure. */
export function gpuComponents(count: number, input: DiscoveryInput, hub: Scope): Record<string, Component> {
  const base = input.baseTopic;
  const components: Record<string, Component> = {};
  for (let i = 0; i < count; i++) {
    const label = count === 1 ? 'GPU' : `GPU ${i}`;
    const sensor = (key: string, name: string, field: string, options: Record<string, unknown>) => {
      components[`gpu${i}_${key}`] = component(hub, `gpu${i}_${key}`, 'sensor', `${label} ${name}`, {
        state_topic: gpuHealthTopic(base),
        value_template: gpuValue(i, field),
        state_class: 'measurement',
        entity_category: 'diagnostic',
        ...options,
      });
    };
    sensor('utilization', 'utilization', 'utilization_pct', { unit_of_measurement: '%', icon: 'mdi:expansion-card' });
    sensor('memory_used', 'memory used', 'memory_used_mib', {
      device_class: 'data_size',
      unit_of_measurement: 'MiB',
      json_attributes_topic: gpuHealthTopic(base),
      json_attributes_template: `{{ ((value_json.gpus | default([]))[${i}] | default({})) | tojson }}`,
    });
    sensor('temperature', 'temperature', 'temperature_c', { device_class: 'temperature', unit_of_measurement: '°C' });
    sensor('power', 'power', 'power_w', { device_class: 'power', unit_of_measurement: 'W' });
  }
  return components;
}

/**
 * The GPU sensors of the hub: none until a GPU was seen in `gpu_stats` (any process may sample), then one set per
 * GPU, fed by the newest sample, retained on `hsi/health/gpu` at every health interval.
 */
export function gpuComponentSource(baseTopic: string): HaComponentSource {
  let seen = 0;
  return {
    name: 'gpu-stats',
    hubComponents: (input, hub) => gpuComponents(seen, input, hub),
    async refresh(db, now) {
      const gpus = await latestGpuSample(db, new Date(now.getTime() - GPU_FRESH_MS));
      if (gpus.length === 0 && seen === 0) return { messages: [], rediscover: false };
      const messages = [
        { topic: gpuHealthTopic(baseTopic), payload: JSON.stringify(gpuHealthPayload(gpus)), retain: true },
      ];
      const rediscover = gpus.length > seen;
      seen = Math.max(seen, gpus.length);
      return { messages, rediscover };
    },
  };
}
