import { performance } from 'node:perf_hooks';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { parseRiskAssessment, type RiskAssessment, type RiskCorrections } from './llm-output.js';
import { type ChatMessage, RISK_ASSESSMENT_SCHEMA, type RiskPrompt } from './prompts.js';

/**
 * Risk analysis over an OpenAI-compatible chat completions endpoint (llama.cpp server, vLLM, Ollama's `/v1`,
 * OpenAI). The request carries the answer's JSON Schema as `response_format` (`json_schema`, strict), so servers
 * that support constrained decoding return valid JSON; the answer is still parsed leniently by
 * `parseRiskAssessment`. LLM faults never throw: an HTTP error, a timeout, a refused connection, a body that is not
 * JSON or over 1 MB, a missing `choices[0].message.content` or unusable content all come back as `ok: false` with
 * a `kind` and a message that names the endpoint. The API key is sent as a bearer token and never logged.
 */

export type LlmPrompt = Pick<RiskPrompt, 'system' | 'user'> & { messages: readonly ChatMessage[] };

export type LlmFailureKind = 'http' | 'timeout' | 'network' | 'invalid_output';

export type LlmAssessment =
  | { ok: true; assessment: RiskAssessment; corrections: RiskCorrections; raw: string; durationMs: number }
  | { ok: false; error: string; kind: LlmFailureKind; status?: number; raw?: string; durationMs: number };

/** A risk assessor backed by a language model. `assess` resolves to `ok: false` on LLM faults; it never rejects. */
export interface LlmClient {
  readonly model: string;
  assess(prompt: LlmPrompt): Promise<LlmAssessment>;
}

export interface OpenAiLlmClientOptions {
  /**
   * Base URL of the server. `http://host:8080`, `http://host:8080/`, `http://host:8080/v1` and
   * `http://host:8080/v1/` are the same: requests go to `<base>/v1/chat/completions` and `<base>/v1/models`.
   * A path prefix before `/v1` (a reverse proxy) is kept.
   */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set and not empty. */
  apiKey?: string | undefined;
  /** Whole request, body included; the request is aborted after it. */
  timeoutMs: number;
  /** Timeout of `probe()`; default min(timeoutMs, 2000). */
  probeTimeoutMs?: number;
  log: Logger;
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
}

export const MAX_RESPONSE_BYTES = 1024 * 1024;
export const LLM_TEMPERATURE = 0.2;
const ERROR_SNIPPET_CHARS = 300;
const RAW_ON_ERROR_CHARS = 4096;

export interface LlmEndpoints {
  chatCompletions: string;
  models: string;
  /** The base without credentials, query or fragment: safe in messages and logs. */
  display: string;
}

/** Resolves the endpoints from a configured base URL; throws CONFIG_INVALID naming the URL when it is unusable. */
export function llmEndpoints(url: string): LlmEndpoints {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new AppError('CONFIG_INVALID', `LLM url "${url}" is not a valid URL: give e.g. http://127.0.0.1:8080`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new AppError('CONFIG_INVALID', `LLM url must start with http:// or https://, got ${parsed.protocol}//…`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new AppError('CONFIG_INVALID', 'LLM url must not contain credentials: set the LLM api key instead');
  }
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  const base = `${parsed.origin}${path}`;
  return { chatCompletions: `${base}/v1/chat/completions`, models: `${base}/v1/models`, display: base };
}

/** The request body: the prompt's messages, a low temperature and the answer's JSON Schema. */
export function chatRequestBody(model: string, messages: readonly ChatMessage[]) {
  return {
    model,
    messages: messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: LLM_TEMPERATURE,
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'risk_assessment', strict: true, schema: RISK_ASSESSMENT_SCHEMA },
    },
  };
}

type Failure = { ok: false; error: string; kind: LlmFailureKind; status?: number; raw?: string };

/** `choices[0].message.content` of a chat completion, or why there is none (`reasoning_content` is ignored). */
export function completionContent(body: unknown): { ok: true; content: string } | Failure {
  const choices = isRecord(body) ? body.choices : undefined;
  const first: unknown = Array.isArray(choices) ? choices[0] : undefined;
  const message = isRecord(first) ? first.message : undefined;
  if (!isRecord(message)) {
    return { ok: false, kind: 'invalid_output', error: 'LLM response has no choices[0].message' };
  }
  const content = message.content;
  if (typeof content === 'string' && content.trim() !== '') return { ok: true, content };
  const onlyReasoning = typeof message.reasoning_content === 'string' && message.reasoning_content.trim() !== '';
  const hint = onlyReasoning
    ? ' (the model only produced reasoning_content: disable thinking or allow more tokens)'
    : '';
  return { ok: false, kind: 'invalid_output', error: `LLM response has an empty choices[0].message.content${hint}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads at most `limit` bytes of the body; cancels the rest. */
async function readBounded(response: Response, limit: number): Promise<{ text: string; overLimit: boolean }> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (response.body === null) return { text: '', overLimit: false };
  const reader = response.body.getReader();
  if (declared > limit) {
    await reader.cancel().catch(() => undefined);
    return { text: '', overLimit: true };
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), overLimit: false };
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), overLimit: true };
    }
    chunks.push(value);
  }
}

function httpErrorDetail(text: string): string {
  let detail = text;
  try {
    const body: unknown = JSON.parse(text);
    const error = isRecord(body) ? body.error : undefined;
    if (typeof error === 'string') detail = error;
    else if (isRecord(error) && typeof error.message === 'string') detail = error.message;
  } catch {
    // not JSON: the text itself is the detail
  }
  const flat = detail.replace(/\s+/g, ' ').trim();
  return flat.length > ERROR_SNIPPET_CHARS ? `${flat.slice(0, ERROR_SNIPPET_CHARS)}…` : flat;
}

/** The innermost useful message of a fetch failure (`fetch failed` hides `connect ECONNREFUSED …` in its cause). */
function networkDetail(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code !== undefined && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return errorMessage(error);
}

export class OpenAiLlmClient implements LlmClient {
  readonly model: string;
  private readonly endpoints: LlmEndpoints;

  constructor(private readonly options: OpenAiLlmClientOptions) {
    this.model = options.model;
    this.endpoints = llmEndpoints(options.url);
  }

  async assess(prompt: LlmPrompt): Promise<LlmAssessment> {
    const started = performance.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    let outcome: { ok: true; content: string } | Failure;
    try {
      outcome = await this.complete(prompt, controller.signal);
    } catch (error) {
      outcome = controller.signal.aborted
        ? {
            ok: false,
            kind: 'timeout',
            error: `LLM at ${this.endpoints.display} did not answer within ${this.options.timeoutMs} ms`,
          }
        : {
            ok: false,
            kind: 'network',
            error: `LLM at ${this.endpoints.display} unreachable: ${networkDetail(error)}`,
          };
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Math.round(performance.now() - started);
    const result = this.toAssessment(outcome, durationMs);
    const fields = { model: this.model, duration_ms: durationMs };
    if (result.ok) this.options.log.debug({ ...fields, risk_score: result.assessment.riskScore }, 'LLM assessed risk');
    else
      this.options.log.warn({ ...fields, kind: result.kind, status: result.status, error: result.error }, 'LLM failed');
    return result;
  }

  /** True when `GET <base>/v1/models` answers 2xx within the probe timeout (for health checks). */
  async probe(): Promise<boolean> {
    const timeoutMs = this.options.probeTimeoutMs ?? Math.min(this.options.timeoutMs, 2000);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await this.fetchImpl(this.endpoints.models, {
        headers: this.headers(),
        signal: controller.signal,
      });
      await response.body?.cancel().catch(() => undefined);
      return response.ok;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private get fetchImpl(): typeof fetch {
    return this.options.fetch ?? fetch;
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const key = this.options.apiKey?.trim();
    if (key) headers.authorization = `Bearer ${key}`;
    return headers;
  }

  private async complete(prompt: LlmPrompt, signal: AbortSignal): Promise<{ ok: true; content: string } | Failure> {
    const response = await this.fetchImpl(this.endpoints.chatCompletions, {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/json' },
      body: JSON.stringify(chatRequestBody(this.model, prompt.messages)),
      signal,
    });
    const { text, overLimit } = await readBounded(response, MAX_RESPONSE_BYTES);
    const where = `LLM at ${this.endpoints.display}`;
    if (overLimit) {
      const raw = text.slice(0, RAW_ON_ERROR_CHARS);
      return {
        ok: false,
        kind: 'invalid_output',
        raw,
        error: `${where} sent a response over ${MAX_RESPONSE_BYTES} bytes`,
      };
    }
    if (!response.ok) {
      const error = `${where} answered HTTP ${response.status}: ${httpErrorDetail(text) || response.statusText}`;
      return { ok: false, kind: 'http', status: response.status, raw: text.slice(0, RAW_ON_ERROR_CHARS), error };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      const raw = text.slice(0, RAW_ON_ERROR_CHARS);
      return { ok: false, kind: 'invalid_output', raw, error: `${where} answered with a body that is not JSON` };
    }
    const content = completionContent(body);
    return content.ok ? content : { ...content, raw: text.slice(0, RAW_ON_ERROR_CHARS) };
  }

  private toAssessment(outcome: { ok: true; content: string } | Failure, durationMs: number): LlmAssessment {
    if (!outcome.ok) return { ...outcome, durationMs };
    const parsed = parseRiskAssessment(outcome.content);
    if (parsed.ok) return { ...parsed, raw: outcome.content, durationMs };
    return { ok: false, kind: 'invalid_output', error: parsed.error, raw: outcome.content, durationMs };
  }
}
