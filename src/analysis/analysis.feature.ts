import { siteLocation, siteTimeZone } from '../config/site.js';
import { defineFeature, type Feature, type FeatureContext } from '../feature.js';
import { eventsWithAlertsDue } from '../storage/event.repository.js';
import { type AnalysisWorkerDeps, catchUpAlerts, createAnalysisHandler } from './analysis.worker.js';

/** An event whose alerts were not evaluated this long after its analysis is caught up by the sweep. */
const CATCH_UP_GRACE_MS = 30_000;
const CATCH_UP_SWEEP_MS = 15_000;

/**
 * The analysis stage: the worker that turns each closed (or fast-path opened) batch into a scored security event,
 * with the core facts and every enabled fact source's, then the alert rules; and the sweep that evaluates the
 * alerts of events whose process died between storing the analysis and evaluating them.
 */
export function analysisFeature(): Feature {
  return defineFeature({
    name: 'analysis',
    roles: ['analyze'],
    async start(ctx, stop) {
      const analysis = analysisDeps(ctx);
      ctx.queues.analysis.process(createAnalysisHandler(analysis), { concurrency: ctx.config.analysis.concurrency });
      const catchUp = async (graceMs: number) => {
        for (const event of await eventsWithAlertsDue(ctx.db, new Date(ctx.clock.now() - graceMs))) {
          ctx.log.info(
            { event_id: event.id, camera_id: event.cameraId },
            'evaluating the alerts of an event analysed before a restart',
          );
          await catchUpAlerts(analysis, event);
        }
      };
      await catchUp(0);
      const timer = setInterval(() => {
        catchUp(CATCH_UP_GRACE_MS).catch((error: unknown) =>
          ctx.log.warn({ err: error }, 'alert catch-up sweep failed'),
        );
      }, CATCH_UP_SWEEP_MS);
      timer.unref();
      stop.push('alert catch-up sweep', async () => clearInterval(timer));
    },
  });
}

function analysisDeps(ctx: FeatureContext): AnalysisWorkerDeps {
  const { db, bus, log, clock, alerts, llm, config } = ctx;
  return {
    db,
    bus,
    log,
    clock,
    alerts,
    llm,
    timeZone: siteTimeZone(config),
    location: siteLocation(config),
    factSources: ctx.contributions.factSources,
  };
}
