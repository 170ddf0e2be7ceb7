import { defineFeature, type Feature } from '../../feature.js';
import { faceProcessor } from './face.processor.js';
import { identityHaSource } from './ha-entities.js';
import { identityFactSource } from './identity-source.js';
import { reidProcessor } from './reid.processor.js';
import { identityRoutes } from './routes.js';
import { peopleThresholds } from './visit-people.js';

/**
 * Who HSI sees (issue 13): person re-identification and faces as frame processors in the enrichment stage, the
 * household and the people seen before (entities, journeys across cameras) in the database, identity facts in the
 * analysis (a trusted member lowers, an unknown person at night raises), Home Assistant entities per member, and
 * the household, face library and entity routes. Off unless `identity.enabled`; `identity.faces.enabled: false`
 * turns face recognition off entirely. It runs nothing of its own: every part is a hook read by the core.
 */
export function identityFeature(): Feature {
  return defineFeature({
    name: 'identity',
    roles: [],
    enabled: (config) => config.identity.enabled,
    frameProcessors: (config) => [
      reidProcessor(config),
      ...(config.identity.faces.enabled ? [faceProcessor(config)] : []),
    ],
    factSources: (config) => [identityFactSource(peopleThresholds(config))],
    haComponents: (config) => [identityHaSource(config)],
    routes: (config) => [identityRoutes(config)],
  });
}
