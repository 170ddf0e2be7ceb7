import { aggregationFeature } from './aggregation/aggregation.feature.js';
import { analysisFeature } from './analysis/analysis.feature.js';
import { detectionFeature } from './detection/detection.feature.js';
import { enrichmentFeature } from './enrichment/enrichment.feature.js';
import type { Feature } from './feature.js';
import { gpuStatsFeature } from './features/gpu-stats/gpu-stats.feature.js';
import { homeAssistantFeature } from './features/home-assistant/home-assistant.feature.js';
import { httpApiFeature } from './features/http-api/http-api.feature.js';
import { identityFeature } from './features/identity/identity.feature.js';
import { ownerFeedbackFeature } from './features/owner-feedback/owner-feedback.feature.js';
import { ingestFeature } from './ingest/ingest.feature.js';

/**
 * Every feature HSI has, in start order (stopped in reverse). The consumers come first so nothing produced is
 * missed: the events stages before Home Assistant and the API, which come before detection and ingest, which
 * produce. A new capability is one line here and one folder under `src/features/`.
 */
export function allFeatures(): Feature[] {
  return [
    ownerFeedbackFeature(),
    identityFeature(),
    aggregationFeature(),
    analysisFeature(),
    homeAssistantFeature(),
    httpApiFeature(),
    enrichmentFeature(),
    detectionFeature(),
    ingestFeature(),
    gpuStatsFeature(),
  ];
}
