import type { FactSource } from '../../analysis/facts.js';
import { defineFeature, type Feature } from '../../feature.js';
import { feedbackFacts, SOURCE } from './feedback-facts.js';
import { cameraFeedback } from './owner-feedback.repository.js';

/** How far back the owner's feedback on the camera counts. */
export const FEEDBACK_WINDOW_DAYS = 30;

/**
 * The owner's feedback on a camera's past events calibrates how its new events are judged: the LLM reads it, the
 * rules scorer moves a score at a level the owner often called wrong. A fact source and nothing else.
 */
export function ownerFeedbackFeature(): Feature {
  return defineFeature({
    name: SOURCE,
    roles: [],
    factSources: () => [ownerFeedbackSource(FEEDBACK_WINDOW_DAYS)],
  });
}

export function ownerFeedbackSource(windowDays: number): FactSource {
  return {
    name: SOURCE,
    async facts(db, visit) {
      const since = new Date(visit.from.getTime() - windowDays * 86_400_000);
      return feedbackFacts(await cameraFeedback(db, visit.cameraId, since), windowDays);
    },
  };
}
