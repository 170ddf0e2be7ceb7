import { describe, expect, it } from 'vitest';
import { MAX_LLM_OUTPUT_CHARS, parseRiskAssessment } from '../../../src/analysis/llm-output.js';

const answer = {
  risk_score: 18,
  risk_level: 'low',
  summary: 'A courier left a parcel at the front door.',
  reasoning: 'Daytime visit to the entry point, short stay, house disarmed.',
  recommended_action: 'No action needed.',
};
const json = JSON.stringify(answer);
const expected = {
  ok: true,
  assessment: {
    riskScore: 18,
    riskLevel: 'low',
    summary: 'A courier left a parcel at the front door.',
    reasoning: 'Daytime visit to the entry point, short stay, house disarmed.',
    recommendedAction: 'No action needed.',
  },
  corrections: {},
};

describe('parseRiskAssessment: accepted shapes', () => {
  it('parses plain JSON', () => {
    expect(parseRiskAssessment(json)).toStrictEqual(expected);
  });

  it('skips a <think> block, even one holding a draft JSON answer', () => {
    const draft = JSON.stringify({ ...answer, risk_score: 70, risk_level: 'high' });
    const text = `<think>\nMaybe it is a burglar? Draft: ${draft}\nNo, a courier.\n</think>\n\n${json}`;
    expect(parseRiskAssessment(text)).toStrictEqual(expected);
  });

  it('handles a lone </think> whose opening tag was in the chat template, and <thinking>', () => {
    expect(parseRiskAssessment(`Looking at {the facts}...</think>${json}`)).toStrictEqual(expected);
    expect(parseRiskAssessment(`<THINKING>hmm</THINKING>${json}`)).toStrictEqual(expected);
  });

  it('falls back to JSON inside the thinking when nothing follows it', () => {
    expect(parseRiskAssessment(`<think>final: ${json}</think>`)).toStrictEqual(expected);
  });

  it('extracts JSON wrapped in prose and in markdown fences', () => {
    expect(parseRiskAssessment(`Here is my assessment:\n${json}\nHope this helps {really}.`)).toStrictEqual(expected);
    expect(parseRiskAssessment(`\`\`\`json\n${JSON.stringify(answer, null, 2)}\n\`\`\``)).toStrictEqual(expected);
  });

  it('finds the answer after prose with a stray brace and quote', () => {
    expect(parseRiskAssessment(`I weigh {height: 6" tall} and more {\n${json}`)).toStrictEqual(expected);
    expect(parseRiskAssessment(`Unclosed { brace with a "quote then ${json}`)).toStrictEqual(expected);
  });

  it('keeps braces and quotes inside strings', () => {
    const tricky = { ...answer, summary: 'Sign reads "} {" at the door.', reasoning: 'Escaped \\" and { braces }.' };
    const result = parseRiskAssessment(`Answer: ${JSON.stringify(tricky)} done`);
    expect(result.ok && [result.assessment.summary, result.assessment.reasoning]).toStrictEqual([
      'Sign reads "} {" at the door.',
      'Escaped \\" and { braces }.',
    ]);
  });

  it('takes the first object that validates, skipping invalid ones and unwrapping a nested answer', () => {
    expect(parseRiskAssessment(`{"note": "context"} then ${json}`)).toStrictEqual(expected);
    expect(parseRiskAssessment(`{"assessment": ${json}}`)).toStrictEqual(expected);
    expect(parseRiskAssessment(`[${json}]`)).toStrictEqual(expected);
  });

  it('ignores extra properties, trims text and turns an empty or null action into null', () => {
    const loose = { ...answer, summary: '  Courier.  ', recommended_action: ' ', confidence: 0.9 };
    expect(parseRiskAssessment(JSON.stringify(loose))).toStrictEqual({
      ...expected,
      assessment: { ...expected.assessment, summary: 'Courier.', recommendedAction: null },
    });
    const withoutAction = { ...answer, recommended_action: null };
    const result = parseRiskAssessment(JSON.stringify(withoutAction));
    expect(result.ok && result.assessment.recommendedAction).toBeNull();
  });
});

describe('parseRiskAssessment: corrections', () => {
  it('clamps an out-of-range score and derives its level', () => {
    expect(parseRiskAssessment(JSON.stringify({ ...answer, risk_score: 140, risk_level: 'critical' }))).toStrictEqual({
      ...expected,
      assessment: { ...expected.assessment, riskScore: 100, riskLevel: 'critical' },
      corrections: { score: { from: 140, to: 100 } },
    });
    const negative = parseRiskAssessment(JSON.stringify({ ...answer, risk_score: -4 }));
    expect(negative.ok && [negative.assessment.riskScore, negative.corrections]).toStrictEqual([
      0,
      { score: { from: -4, to: 0 } },
    ]);
  });

  it('rounds a fractional score', () => {
    const result = parseRiskAssessment(JSON.stringify({ ...answer, risk_score: 59.5, risk_level: 'medium' }));
    expect(result.ok && [result.assessment, result.corrections]).toStrictEqual([
      { ...expected.assessment, riskScore: 60, riskLevel: 'high' },
      { score: { from: 59.5, to: 60 }, level: { from: 'medium', to: 'high' } },
    ]);
  });

  it('derives the level from the score when they disagree, and reports it', () => {
    const result = parseRiskAssessment(JSON.stringify({ ...answer, risk_score: 72, risk_level: 'critical' }));
    expect(result.ok && [result.assessment.riskLevel, result.corrections]).toStrictEqual([
      'high',
      { level: { from: 'critical', to: 'high' } },
    ]);
    const unknown = parseRiskAssessment(JSON.stringify({ ...answer, risk_level: 'severe' }));
    expect(unknown.ok && unknown.corrections).toStrictEqual({ level: { from: 'severe', to: 'low' } });
  });

  it('accepts a level that only differs in case or spacing without reporting it', () => {
    const result = parseRiskAssessment(JSON.stringify({ ...answer, risk_level: ' LOW ' }));
    expect(result.ok && [result.assessment.riskLevel, result.corrections]).toStrictEqual(['low', {}]);
  });
});

describe('parseRiskAssessment: garbage never throws', () => {
  const cases: [string, unknown, string][] = [
    ['empty', '', 'LLM output is empty'],
    ['not a string', 42, 'LLM output is empty'],
    ['prose only', 'I cannot assess this event.', 'LLM output has no usable risk assessment: no JSON object found'],
    [
      'truncated JSON',
      '{"risk_score": 20, "risk_level": "low"',
      'LLM output has no usable risk assessment: no JSON object found',
    ],
    [
      'wrong types',
      JSON.stringify({ ...answer, risk_score: 'high', summary: 7 }),
      'LLM output has no usable risk assessment: JSON does not match the answer schema: risk_score must be number; summary must be string',
    ],
    [
      'missing fields',
      '{"risk_score": 10}',
      "LLM output has no usable risk assessment: JSON does not match the answer schema: answer must have required property 'risk_level'; answer must have required property 'summary'; answer must have required property 'reasoning'",
    ],
    [
      'blank summary',
      JSON.stringify({ ...answer, summary: '   ' }),
      'LLM output has no usable risk assessment: JSON does not match the answer schema: summary must match pattern "\\S"',
    ],
  ];

  it.each(cases)('%s', (_name, text, error) => {
    expect(parseRiskAssessment(text)).toStrictEqual({ ok: false, error });
  });

  it('reports why JSON did not parse', () => {
    const result = parseRiskAssessment("{'risk_score': 20}");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/^LLM output has no usable risk assessment: invalid JSON \(.+\)$/);
  });

  it('refuses oversized output', () => {
    expect(parseRiskAssessment(' '.repeat(MAX_LLM_OUTPUT_CHARS) + json)).toStrictEqual({
      ok: false,
      error: `LLM output is ${MAX_LLM_OUTPUT_CHARS + json.length} characters, over the ${MAX_LLM_OUTPUT_CHARS} limit`,
    });
  });

  it('stays fast on a flood of braces', () => {
    const started = performance.now();
    const result = parseRiskAssessment('{'.repeat(50_000));
    expect(result.ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
