import { clipFrameExtractor } from '../../adapters.js';
import { readinessChecks, startApi } from '../../api/server.js';
import { defineFeature, type Feature } from '../../feature.js';
import { detectionEnqueuer } from '../../ingest/ingest.service.js';

/** The HTTP API, the WebSocket stream, `/metrics` and the web UI, on `http.port` (off with `http.enabled: false`). */
export function httpApiFeature(): Feature {
  return defineFeature({
    name: 'http-api',
    roles: ['api'],
    enabled: (config) => config.http.enabled,
    async start(ctx, stop) {
      const { config, db, bus, alerts, arming, failedLogins, log, clock, running } = ctx;
      const queues = { detection: ctx.queues.detection, analysis: ctx.queues.analysis };
      const api = await startApi(config, {
        db,
        bus,
        alerts,
        arming,
        queues,
        checks: readinessChecks(
          db,
          queues,
          () => running.mqtt?.connected ?? false,
          () => running.ingestHealth?.(),
        ),
        enqueueDetection: detectionEnqueuer(ctx.queues.detection),
        extractFrames: clipFrameExtractor(config),
        failedLogins,
        status: ctx.status,
        models: ctx.models,
        routes: ctx.contributions.routes,
        log,
        clock,
      });
      stop.push('http api', () => api.close());
    },
  });
}
