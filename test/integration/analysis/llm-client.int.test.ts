import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assessRisk } from '../../../src/analysis/assess-with-fallback.js';
import {
  chatRequestBody,
  type LlmAssessment,
  llmEndpoints,
  OpenAiLlmClient,
} from '../../../src/analysis/llm-client.js';
import { buildRiskPrompt, RISK_ASSESSMENT_SCHEMA } from '../../../src/analysis/prompts.js';
import { scoreEvent } from '../../../src/analysis/rules-scorer.js';
import { isRiskLevel, riskLevelFor } from '../../../src/domain/risk.js';
import { createLogger, type Logger, silentLogger } from '../../../src/lib/logger.js';
import { promptInput, scorerInput } from '../../support/builders.js';
import {
  body,
  type FakeLlmBehaviour,
  FakeLlmServer,
  garbage,
  hang,
  json,
  oversized,
  status,
  text,
  unusedLocalUrl,
} from '../../support/fake-llm.js';

const prompt = buildRiskPrompt(promptInput());
const rulesInput = scorerInput();
const answer = {
  risk_score: 18,
  risk_level: 'low',
  summary: 'A courier left a parcel at the front door.',
  reasoning: 'Daytime visit to the entry point, short stay, house disarmed.',
  recommended_action: 'No action needed.',
};
const assessment = {
  riskScore: 18,
  riskLevel: 'low',
  summary: 'A courier left a parcel at the front door.',
  reasoning: 'Daytime visit to the entry point, short stay, house disarmed.',
  recommendedAction: 'No action needed.',
};

let fake: FakeLlmServer;
beforeEach(async () => {
  fake = await FakeLlmServer.start();
});
afterEach(async () => {
  await fake.close();
});

function client(options: { url?: string; apiKey?: string; timeoutMs?: number; log?: Logger } = {}) {
  return new OpenAiLlmClient({
    url: options.url ?? fake.url,
    model: 'qwen3-4b',
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? 2000,
    log: options.log ?? silentLogger(),
  });
}

async function assessWith(...behaviours: FakeLlmBehaviour[]): Promise<LlmAssessment> {
  fake.reply(...behaviours);
  const result = await client().assess(prompt);
  expect(fake.pending).toBe(0);
  return result;
}

function failure(result: LlmAssessment) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return { kind: result.kind, status: result.status, error: result.error };
}

describe('OpenAiLlmClient against an OpenAI-compatible server', () => {
  it('sends the messages, temperature and JSON Schema, and parses a plain JSON answer', async () => {
    const result = await assessWith(json(answer));
    expect(result.ok && { ...result, durationMs: 0 }).toStrictEqual({
      ok: true,
      assessment,
      corrections: {},
      raw: JSON.stringify(answer),
      durationMs: 0,
    });
    const sent = fake.completions[0];
    expect(sent?.body).toStrictEqual({
      model: 'qwen3-4b',
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
      temperature: 0.2,
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'risk_assessment',
          strict: true,
          schema: JSON.parse(JSON.stringify(RISK_ASSESSMENT_SCHEMA)),
        },
      },
    });
    expect(sent?.body).toStrictEqual(JSON.parse(JSON.stringify(chatRequestBody('qwen3-4b', prompt.messages))));
    expect(sent?.headers['content-type']).toBe('application/json');
  });

  it('accepts JSON after a <think> block, inside prose, and ignores a separate reasoning_content', async () => {
    const thinking = `<think>A parcel? Draft ${JSON.stringify({ ...answer, risk_score: 80 })}. No, a courier.</think>\n`;
    const prose = `Here is my assessment:\n${JSON.stringify(answer)}\nStay safe!`;
    const separate = text(JSON.stringify(answer), { reasoningContent: '{"risk_score": 99, "risk_level": "critical"}' });
    for (const behaviour of [text(thinking + JSON.stringify(answer)), text(prose), separate]) {
      const result = await assessWith(behaviour);
      expect(result.ok && result.assessment).toStrictEqual(assessment);
    }
  });

  it('derives the level from the score when the model disagrees, and reports the correction', async () => {
    const result = await assessWith(json({ ...answer, risk_score: 72, risk_level: 'low' }));
    expect(result.ok && [result.assessment.riskLevel, result.corrections]).toStrictEqual([
      'high',
      { level: { from: 'low', to: 'high' } },
    ]);
  });

  it('reports unusable output as invalid_output with the raw text', async () => {
    const broken = '{"risk_score": 40, "risk_level": "medium", "summary": "cut off';
    const result = await assessWith(text(broken));
    expect(failure(result).kind).toBe('invalid_output');
    expect(failure(result).error).toMatch(/^LLM output has no usable risk assessment/);
    expect(!result.ok && result.raw).toBe(broken);
  });

  it('reports a body that is not JSON, a completion without choices and reasoning-only output', async () => {
    expect(failure(await assessWith(garbage()))).toStrictEqual({
      kind: 'invalid_output',
      status: undefined,
      error: `LLM at ${fake.url} answered with a body that is not JSON`,
    });
    expect(failure(await assessWith(body({ object: 'chat.completion', choices: [] }))).error).toBe(
      'LLM response has no choices[0].message',
    );
    expect(failure(await assessWith(text('', { reasoningContent: 'thinking forever' }))).error).toBe(
      'LLM response has an empty choices[0].message.content (the model only produced reasoning_content: ' +
        'disable thinking or allow more tokens)',
    );
  });

  it('reports an HTTP error with its status and the server message', async () => {
    expect(failure(await assessWith(status(500, 'model crashed')))).toStrictEqual({
      kind: 'http',
      status: 500,
      error: `LLM at ${fake.url} answered HTTP 500: model crashed`,
    });
  });

  it('times out a server that never answers', async () => {
    fake.reply(hang());
    const result = await client({ timeoutMs: 300 }).assess(prompt);
    expect(failure(result)).toStrictEqual({
      kind: 'timeout',
      status: undefined,
      error: `LLM at ${fake.url} did not answer within 300 ms`,
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(295);
    expect(result.durationMs).toBeLessThan(1500);
  });

  it('reports a server that goes away mid-request as network, and close() does not wait for it', async () => {
    fake.reply(hang());
    const pending = client({ timeoutMs: 10_000 }).assess(prompt);
    await expect.poll(() => fake.completions.length).toBe(1);
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(500);
    const result = await pending;
    expect(failure(result).kind).toBe('network');
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('reports a refused connection as network', async () => {
    const url = await unusedLocalUrl();
    const result = await client({ url }).assess(prompt);
    expect(failure(result).kind).toBe('network');
    expect(failure(result).error).toMatch(new RegExp(`^LLM at ${url} unreachable: .*ECONNREFUSED`));
  });

  it('cuts off responses over 1 MB, streamed or declared', async () => {
    for (const behaviour of [oversized(3 * 1024 * 1024), oversized(2 * 1024 * 1024, true)]) {
      expect(failure(await assessWith(behaviour))).toStrictEqual({
        kind: 'invalid_output',
        status: undefined,
        error: `LLM at ${fake.url} sent a response over 1048576 bytes`,
      });
    }
  });

  it('sends the API key only when configured, and never logs it', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    fake.reply(json(answer), json(answer), status(401, 'bad key'));
    await client().assess(prompt);
    await client({ apiKey: '' }).assess(prompt);
    await client({ apiKey: 'sk-secret-123', log: createLogger('debug', stream) }).assess(prompt);
    expect(fake.completions.map((r) => r.headers.authorization)).toStrictEqual([
      undefined,
      undefined,
      'Bearer sk-secret-123',
    ]);
    expect(lines.join('')).toContain('LLM failed');
    expect(lines.join('')).not.toContain('sk-secret-123');
  });

  it('accepts the base URL with or without /v1 and a trailing slash', async () => {
    for (const url of [fake.url, `${fake.url}/`, `${fake.url}/v1`, `${fake.url}/v1/`]) {
      fake.reply(json(answer));
      expect((await client({ url }).assess(prompt)).ok).toBe(true);
    }
    expect(fake.completions.map((r) => r.path)).toStrictEqual(Array(4).fill('/v1/chat/completions'));
    expect(llmEndpoints('https://proxy.lan/llm/v1/')).toStrictEqual({
      chatCompletions: 'https://proxy.lan/llm/v1/chat/completions',
      models: 'https://proxy.lan/llm/v1/models',
      display: 'https://proxy.lan/llm',
    });
    expect(() => llmEndpoints('localhost:8080')).toThrow('LLM url must start with http:// or https://');
    expect(() => llmEndpoints('not a url')).toThrow('LLM url "not a url" is not a valid URL');
    expect(() => llmEndpoints('http://me:pw@host')).toThrow('LLM url must not contain credentials');
  });

  it('probes GET /v1/models for health', async () => {
    expect(await client().probe()).toBe(true);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toStrictEqual(['GET /v1/models']);
    expect(await client({ url: await unusedLocalUrl() }).probe()).toBe(false);
    expect(await client({ url: `${fake.url}/nope` }).probe()).toBe(false);
  });
});

describe('assessRisk over the HTTP client: always exactly one valid assessment', () => {
  const cases: [string, FakeLlmBehaviour[], 'llm' | 'rules_fallback', number][] = [
    ['valid JSON', [json(answer)], 'llm', 1],
    ['JSON inside <think>', [text(`<think>hmm</think>${JSON.stringify(answer)}`)], 'llm', 1],
    ['disagreeing level', [json({ ...answer, risk_score: 88, risk_level: 'medium' })], 'llm', 1],
    ['HTTP 500 then valid', [status(500), json(answer)], 'llm', 2],
    ['HTTP 500 twice', [status(500), status(503)], 'rules_fallback', 2],
    ['garbage then invalid JSON', [garbage(), text('{"risk_score": }')], 'rules_fallback', 2],
    ['never answers twice', [hang(), hang()], 'rules_fallback', 2],
    ['oversized twice', [oversized(1_100_000), oversized(1_100_000)], 'rules_fallback', 2],
  ];

  it.each(cases)('%s', async (_name, behaviours, source, attempts) => {
    fake.reply(...behaviours);
    const llm = client({ timeoutMs: 300 });
    const result = await assessRisk({ llm, prompt, rulesInput, scoreWithRules: scoreEvent, maxLlmAttempts: 2 });
    expect([result.source, result.attempts, result.errors.length]).toStrictEqual([
      source,
      attempts,
      attempts - (source === 'llm' ? 1 : 0),
    ]);
    expect(isRiskLevel(result.assessment.riskLevel)).toBe(true);
    expect(result.assessment.riskLevel).toBe(riskLevelFor(result.assessment.riskScore));
    expect(result.assessment.summary).not.toBe('');
    expect(fake.completions).toHaveLength(attempts);
  });

  it('falls back to the rules when the server is down', async () => {
    const url = await unusedLocalUrl();
    const llm = client({ url });
    const result = await assessRisk({ llm, prompt, rulesInput, scoreWithRules: scoreEvent, maxLlmAttempts: 2 });
    expect([result.source, result.assessment.riskScore, result.assessment.riskLevel]).toStrictEqual([
      'rules_fallback',
      12,
      'low',
    ]);
    const refused = `LLM at ${url} unreachable: connect ECONNREFUSED ${url.slice('http://'.length)}`;
    expect(result.errors).toStrictEqual([`attempt 1 (network): ${refused}`, `attempt 2 (network): ${refused}`]);
  });
});
