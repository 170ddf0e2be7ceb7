import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import {
  collectContributions,
  defineFeature,
  type Feature,
  type FeatureContext,
  runsHere,
} from '../../../src/feature.js';
import { silentLogger } from '../../../src/lib/logger.js';

const config = { http: { enabled: false } } as unknown as Config;
const ctx = { log: silentLogger() } as unknown as FeatureContext;

describe('the Feature seam', () => {
  it('runs a feature where it is enabled and holds one of the roles', () => {
    const api = defineFeature({ name: 'api', roles: ['api'], enabled: (c) => c.http.enabled });
    const worker = defineFeature({ name: 'worker', roles: ['detect', 'enrich'] });
    const hooksOnly = defineFeature({ name: 'facts', roles: [] });
    expect(runsHere(api, config, new Set(['api']))).toBe(false);
    expect(runsHere(worker, config, new Set(['enrich']))).toBe(true);
    expect(runsHere(worker, config, new Set(['ingest', 'api']))).toBe(false);
    expect(runsHere(hooksOnly, config, new Set(['ingest', 'detect', 'enrich', 'analyze', 'bridge', 'api']))).toBe(
      false,
    );
  });

  it("collects every enabled feature's hooks in feature order, whatever its roles, and none of a disabled one", () => {
    const source = (name: string) => ({ name, facts: async () => [] });
    const features: Feature[] = [
      defineFeature({ name: 'a', roles: [], factSources: () => [source('a1'), source('a2')] }),
      defineFeature({ name: 'off', roles: ['api'], enabled: () => false, factSources: () => [source('off')] }),
      defineFeature({
        name: 'b',
        roles: ['detect'],
        factSources: () => [source('b')],
        routes: () => [() => undefined],
      }),
    ];
    const c = collectContributions(features, config);
    expect(c.factSources.map((s) => s.name)).toStrictEqual(['a1', 'a2', 'b']);
    expect(c.routes).toHaveLength(1);
    expect([c.frameProcessors, c.haComponents]).toStrictEqual([[], []]);
  });

  it('stops what a start registered in reverse, also after a start that failed half-way', async () => {
    const stopped: string[] = [];
    const feature = defineFeature({
      name: 'parts',
      roles: ['detect'],
      async start(_ctx, stop) {
        stop.push('first', async () => void stopped.push('first'));
        stop.push('second', async () => void stopped.push('second'));
        throw new Error('third part failed');
      },
    });
    await expect(feature.start?.(ctx)).rejects.toThrow('third part failed');
    await feature.stop?.();
    expect(stopped).toStrictEqual(['second', 'first']);
  });

  it('has no start or stop when it only contributes', () => {
    const feature = defineFeature({ name: 'facts', roles: [] });
    expect([feature.start, feature.stop, feature.enabled(config)]).toStrictEqual([undefined, undefined, true]);
  });
});
