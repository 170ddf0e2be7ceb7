import { describe, expect, it } from 'vitest';
import { assessRisk } from '../../../src/analysis/assess-with-fallback.js';
import type { LlmAssessment, LlmClient, LlmPrompt } from '../../../src/analysis/llm-client.js';
import type { RulesAssessment, ScorerInput } from '../../../src/analysis/rules-scorer.js';
import { scoreEvent } from '../../../src/analysis/rules-scorer.js';
import { scorerInput } from '../../support/builders.js';

const prompt: LlmPrompt = {
  system: 'system prompt',
  user: 'user prompt',
  messages: [
    { role: 'system', content: 'system prompt' },
    { role: 'user', content: 'user prompt' },
  ],
};

const rulesInput = scorerInput();

const rulesAssessment = {
  riskScore: 12,
  riskLevel: 'low',
  summary: 'A person at Front Door during the day (Tuesday 14:00).',
  reasoning: 'Rules scorer: person present +12 = 12 (low).',
  recommendedAction: 'No action needed.',
};

const llmAssessment = {
  riskScore: 48,
  riskLevel: 'medium',
  summary: 'A stranger lingered at the front door.',
  reasoning: 'Several minutes at the entry point with no delivery.',
  recommendedAction: null,
} as const;

const okResult: LlmAssessment = {
  ok: true,
  assessment: llmAssessment,
  corrections: { level: { from: 'high', to: 'medium' } },
  raw: '{"risk_score":48}',
  durationMs: 120,
};
const timeout: LlmAssessment = {
  ok: false,
  kind: 'timeout',
  error: 'LLM did not answer within 300 ms',
  durationMs: 300,
};
const http500: LlmAssessment = { ok: false, kind: 'http', status: 500, error: 'LLM answered HTTP 500', durationMs: 4 };

/** A scripted LlmClient: each call takes the next result (an Error is thrown instead). */
function fakeLlm(...script: (LlmAssessment | Error)[]): LlmClient & { calls: LlmPrompt[] } {
  const calls: LlmPrompt[] = [];
  return {
    model: 'fake-model',
    calls,
    async assess(p) {
      calls.push(p);
      const next = script.shift();
      if (next === undefined) throw new Error('fake LLM script exhausted');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

function countingScorer(): { score: (input: ScorerInput) => RulesAssessment; inputs: ScorerInput[] } {
  const inputs: ScorerInput[] = [];
  return {
    inputs,
    score: (input) => {
      inputs.push(input);
      return scoreEvent(input);
    },
  };
}

describe('assessRisk', () => {
  it('uses the rules scorer when no LLM is configured', async () => {
    const scorer = countingScorer();
    const result = await assessRisk({ prompt, rulesInput, scoreWithRules: scorer.score, maxLlmAttempts: 2 });
    expect(result).toStrictEqual({ source: 'rules', assessment: rulesAssessment, attempts: 0, errors: [] });
    expect(scorer.inputs).toStrictEqual([rulesInput]);
  });

  it('returns the LLM assessment when the first try succeeds, without calling the rules', async () => {
    const llm = fakeLlm(okResult);
    const scorer = countingScorer();
    const result = await assessRisk({ llm, prompt, rulesInput, scoreWithRules: scorer.score, maxLlmAttempts: 2 });
    expect(result).toStrictEqual({
      source: 'llm',
      assessment: llmAssessment,
      attempts: 1,
      errors: [],
      raw: '{"risk_score":48}',
      corrections: { level: { from: 'high', to: 'medium' } },
      model: 'fake-model',
    });
    expect(llm.calls).toStrictEqual([prompt]);
    expect(scorer.inputs).toStrictEqual([]);
  });

  it('retries once and keeps the first error when the second try succeeds', async () => {
    const llm = fakeLlm(timeout, okResult);
    const result = await assessRisk({ llm, prompt, rulesInput, scoreWithRules: scoreEvent, maxLlmAttempts: 2 });
    expect([result.source, result.attempts, result.errors, result.assessment]).toStrictEqual([
      'llm',
      2,
      ['attempt 1 (timeout): LLM did not answer within 300 ms'],
      llmAssessment,
    ]);
  });

  it('falls back to the rules after two failures, keeping both errors', async () => {
    const llm = fakeLlm(http500, timeout, okResult);
    const scorer = countingScorer();
    const result = await assessRisk({ llm, prompt, rulesInput, scoreWithRules: scorer.score, maxLlmAttempts: 2 });
    expect(result).toStrictEqual({
      source: 'rules_fallback',
      assessment: rulesAssessment,
      attempts: 2,
      errors: ['attempt 1 (http): LLM answered HTTP 500', 'attempt 2 (timeout): LLM did not answer within 300 ms'],
    });
    expect(llm.calls).toHaveLength(2);
    expect(scorer.inputs).toStrictEqual([rulesInput]);
  });

  it('treats a client that throws as a failed try', async () => {
    const llm = fakeLlm(new Error('socket hang up'), new Error('socket hang up'));
    const result = await assessRisk({ llm, prompt, rulesInput, scoreWithRules: scoreEvent });
    expect([result.source, result.errors]).toStrictEqual([
      'rules_fallback',
      [
        'attempt 1 (network): LLM client failed: socket hang up',
        'attempt 2 (network): LLM client failed: socket hang up',
      ],
    ]);
  });

  it('defaults to 2 attempts and honours another count', async () => {
    const three = fakeLlm(http500, http500, okResult);
    const withThree = await assessRisk({
      llm: three,
      prompt,
      rulesInput,
      scoreWithRules: scoreEvent,
      maxLlmAttempts: 3,
    });
    expect([withThree.source, withThree.attempts]).toStrictEqual(['llm', 3]);
    const byDefault = fakeLlm(http500, http500, okResult);
    const withDefault = await assessRisk({ llm: byDefault, prompt, rulesInput, scoreWithRules: scoreEvent });
    expect([withDefault.source, withDefault.attempts, byDefault.calls.length]).toStrictEqual(['rules_fallback', 2, 2]);
  });

  it('rejects an attempt count below 1 with an error naming it', async () => {
    const run = assessRisk({ llm: fakeLlm(), prompt, rulesInput, scoreWithRules: scoreEvent, maxLlmAttempts: 0 });
    await expect(run).rejects.toThrow('maxLlmAttempts must be an integer >= 1, got 0');
  });
});
