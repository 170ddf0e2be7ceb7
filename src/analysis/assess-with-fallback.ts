import type { RiskLevel } from '../domain/risk.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { LlmAssessment, LlmClient, LlmPrompt } from './llm-client.js';
import type { RiskCorrections } from './llm-output.js';
import type { RulesAssessment, ScorerInput } from './rules-scorer.js';

/**
 * Risk assessment of one event with an LLM when one is configured, and the rules scorer otherwise (pure
 * orchestration; the client and the scorer are passed in). Every call yields exactly one assessment:
 * - no LLM configured: the rules scorer, source `rules`;
 * - the LLM answers with a usable assessment within `maxLlmAttempts` tries: source `llm`;
 * - every try fails (HTTP error, timeout, unreachable, unusable output): the rules scorer, source
 *   `rules_fallback`, with each try's error kept in `errors` so the event records why.
 * The LLM's snake_case answer is mapped to camelCase by `parseRiskAssessment` inside the client, so both sources
 * share one shape here.
 */

export type AssessmentSource = 'llm' | 'rules' | 'rules_fallback';

export interface EventRiskAssessment {
  riskScore: number;
  riskLevel: RiskLevel;
  summary: string;
  reasoning: string;
  recommendedAction: string | null;
}

export interface AssessRiskInput {
  /** Absent when no LLM is configured. */
  llm?: LlmClient | undefined;
  prompt: LlmPrompt;
  rulesInput: ScorerInput;
  /** The rules scorer (`scoreEvent` from rules-scorer.ts). */
  scoreWithRules: (input: ScorerInput) => RulesAssessment;
  /** LLM tries before falling back to the rules; default 2. */
  maxLlmAttempts?: number;
}

export interface AssessRiskResult {
  source: AssessmentSource;
  assessment: EventRiskAssessment;
  /** LLM tries made (0 without an LLM). */
  attempts: number;
  /** One message per failed LLM try, in order. */
  errors: string[];
  /** The LLM's text answer (source `llm` only). */
  raw?: string;
  /** What the parser corrected in the LLM's answer (source `llm` only). */
  corrections?: RiskCorrections;
  /** The model that produced the assessment (source `llm` only). */
  model?: string;
}

export const DEFAULT_MAX_LLM_ATTEMPTS = 2;

function fromRules(rules: RulesAssessment): EventRiskAssessment {
  return {
    riskScore: rules.riskScore,
    riskLevel: rules.riskLevel,
    summary: rules.summary,
    reasoning: rules.reasoning,
    recommendedAction: rules.recommendedAction,
  };
}

/** One try; a client that breaks its contract and rejects counts as a failed try, not as a crash. */
async function tryLlm(llm: LlmClient, prompt: LlmPrompt): Promise<LlmAssessment> {
  try {
    return await llm.assess(prompt);
  } catch (error) {
    return { ok: false, kind: 'network', error: `LLM client failed: ${errorMessage(error)}`, durationMs: 0 };
  }
}

export async function assessRisk(input: AssessRiskInput): Promise<AssessRiskResult> {
  const { llm, prompt, rulesInput, scoreWithRules } = input;
  const maxAttempts = input.maxLlmAttempts ?? DEFAULT_MAX_LLM_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new AppError('INVALID_INPUT', `maxLlmAttempts must be an integer >= 1, got ${String(maxAttempts)}`, {
      permanent: true,
    });
  }
  if (llm === undefined) {
    return { source: 'rules', assessment: fromRules(scoreWithRules(rulesInput)), attempts: 0, errors: [] };
  }
  const errors: string[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const result = await tryLlm(llm, prompt);
    if (result.ok) {
      const a = result.assessment;
      return {
        source: 'llm',
        assessment: {
          riskScore: a.riskScore,
          riskLevel: a.riskLevel,
          summary: a.summary,
          reasoning: a.reasoning,
          recommendedAction: a.recommendedAction,
        },
        attempts: attempt,
        errors,
        raw: result.raw,
        corrections: result.corrections,
        model: llm.model,
      };
    }
    errors.push(`attempt ${attempt} (${result.kind}): ${result.error}`);
  }
  return {
    source: 'rules_fallback',
    assessment: fromRules(scoreWithRules(rulesInput)),
    attempts: maxAttempts,
    errors,
  };
}
