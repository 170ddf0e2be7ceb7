import { Ajv, type ErrorObject, type JSONSchemaType } from 'ajv';
import { clampScore, isRiskLevel, type RiskLevel, riskLevelFor } from '../domain/risk.js';

/**
 * Turns an LLM's free text into a validated risk assessment, without ever throwing. Tolerated around the
 * answer: `<think>…</think>` / `<thinking>…</thinking>` blocks (and a lone `</think>` whose opening tag was in the
 * chat template), markdown code fences, and prose before or after. The first balanced JSON object (outer
 * objects before the ones nested in them, so `{"assessment": {…}}` or `[{…}]` also work) that passes the schema
 * wins; objects inside a thinking block are
 * tried only when the rest of the text has none. The score is rounded and clamped to 0–100 and the level
 * derived from the score when they disagree; both corrections are reported.
 */

export interface RiskAssessment {
  riskScore: number;
  riskLevel: RiskLevel;
  summary: string;
  reasoning: string;
  recommendedAction: string | null;
}

export interface RiskCorrections {
  /** The score as the model gave it, when it had to be rounded or clamped. */
  score?: { from: number; to: number };
  /** The level as the model gave it, when it was not the level of the (corrected) score. */
  level?: { from: string; to: RiskLevel };
}

export type ParsedRiskAssessment =
  | { ok: true; assessment: RiskAssessment; corrections: RiskCorrections }
  | { ok: false; error: string };

interface LlmAnswer {
  risk_score: number;
  risk_level: string;
  summary: string;
  reasoning: string;
  recommended_action?: string | null;
}

/** Lenient on purpose: any number for the score and any string for the level; both are corrected afterwards. */
const ANSWER_SCHEMA: JSONSchemaType<LlmAnswer> = {
  type: 'object',
  properties: {
    risk_score: { type: 'number' },
    risk_level: { type: 'string' },
    summary: { type: 'string', minLength: 1, pattern: '\\S' },
    reasoning: { type: 'string' },
    recommended_action: { type: 'string', nullable: true },
  },
  required: ['risk_score', 'risk_level', 'summary', 'reasoning'],
};

const validateAnswer = new Ajv({ allErrors: true }).compile(ANSWER_SCHEMA);

export const MAX_LLM_OUTPUT_CHARS = 200_000;
const MAX_CANDIDATES = 64;
const MAX_FALLBACK_STARTS = 16;
const THINK_BLOCK = /<(think|thinking)>[\s\S]*?<\/\1>/gi;
const THINK_CLOSE = /<\/(think|thinking)>/gi;

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => `${e.instancePath === '' ? 'answer' : e.instancePath.slice(1)} ${e.message}`)
    .join('; ');
}

/**
 * Balanced `{…}` spans, outer before nested, in one pass. Quotes only count inside braces, so prose quotes do
 * not confuse it; braces inside JSON strings are skipped.
 */
function balancedSpans(text: string): [number, number][] {
  const open: number[] = [];
  const spans: [number, number][] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && open.length > 0) inString = true;
    else if (c === '{') open.push(i);
    else if (c === '}' && open.length > 0) spans.push([open.pop()!, i]);
  }
  return spans.sort((a, b) => a[0] - b[0]);
}

/** Index of the `}` closing the object opening at `start`, or -1 (for the fallback scan from one brace). */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/**
 * Candidate JSON texts: the balanced spans, then (in case a stray quote in prose derailed the single pass)
 * objects scanned from each of the first few opening braces. Bounded, so a flood of braces stays cheap.
 */
function candidates(text: string): string[] {
  const spans = balancedSpans(text).slice(0, MAX_CANDIDATES);
  const starts = new Set(spans.map(([from]) => from));
  let tried = 0;
  for (let i = text.indexOf('{'); i !== -1 && tried < MAX_FALLBACK_STARTS; i = text.indexOf('{', i + 1)) {
    if (starts.has(i)) continue;
    tried++;
    const end = closingBrace(text, i);
    if (end !== -1) spans.push([i, end]);
  }
  return spans.map(([from, to]) => text.slice(from, to + 1));
}

/** The text outside thinking blocks, and the thinking itself as a fallback. */
function splitThinking(text: string): { answer: string; thinking: string } {
  const thinking: string[] = [];
  let answer = text.replace(THINK_BLOCK, (block) => {
    thinking.push(block);
    return ' ';
  });
  const closes = [...answer.matchAll(THINK_CLOSE)];
  const last = closes.at(-1);
  if (last !== undefined) {
    thinking.push(answer.slice(0, last.index));
    answer = answer.slice(last.index + last[0].length);
  }
  return { answer, thinking: thinking.join('\n') };
}

function toAssessment(answer: LlmAnswer): { assessment: RiskAssessment; corrections: RiskCorrections } {
  const corrections: RiskCorrections = {};
  const riskScore = clampScore(answer.risk_score);
  if (riskScore !== answer.risk_score) corrections.score = { from: answer.risk_score, to: riskScore };
  const riskLevel = riskLevelFor(riskScore);
  const given = answer.risk_level.trim().toLowerCase();
  if (!isRiskLevel(given) || given !== riskLevel) corrections.level = { from: answer.risk_level, to: riskLevel };
  const action = answer.recommended_action?.trim() ?? '';
  return {
    assessment: {
      riskScore,
      riskLevel,
      summary: answer.summary.trim(),
      reasoning: answer.reasoning.trim(),
      recommendedAction: action === '' ? null : action,
    },
    corrections,
  };
}

type Attempt = { ok: true; answer: LlmAnswer } | { ok: false; error: string | undefined };

function firstValid(text: string): Attempt {
  let firstError: string | undefined;
  for (const candidate of candidates(text)) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch (error) {
      firstError ??= `invalid JSON (${error instanceof Error ? error.message : String(error)})`;
      continue;
    }
    if (validateAnswer(value)) return { ok: true, answer: value };
    firstError ??= `JSON does not match the answer schema: ${describeErrors(validateAnswer.errors)}`;
  }
  return { ok: false, error: firstError };
}

export function parseRiskAssessment(text: unknown): ParsedRiskAssessment {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'LLM output is empty' };
  if (text.length > MAX_LLM_OUTPUT_CHARS) {
    return { ok: false, error: `LLM output is ${text.length} characters, over the ${MAX_LLM_OUTPUT_CHARS} limit` };
  }
  const { answer, thinking } = splitThinking(text);
  let attempt = firstValid(answer);
  if (!attempt.ok && thinking !== '') {
    const fallback = firstValid(thinking);
    attempt = fallback.ok ? fallback : { ok: false, error: attempt.error ?? fallback.error };
  }
  if (attempt.ok) return { ok: true, ...toAssessment(attempt.answer) };
  return { ok: false, error: `LLM output has no usable risk assessment: ${attempt.error ?? 'no JSON object found'}` };
}
