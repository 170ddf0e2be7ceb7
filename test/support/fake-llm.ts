import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for an OpenAI-compatible server (llama.cpp, vLLM, Ollama `/v1`, OpenAI): a real HTTP server on
 * 127.0.0.1 with a random port that answers `POST /v1/chat/completions` from a scripted queue of behaviours, one
 * per request, and `GET /v1/models` with one model. It records every request so tests can assert what was sent,
 * and it never makes an outbound call. With the queue empty it answers HTTP 500 naming the problem. `close()`
 * also ends requests left hanging.
 */

export type FakeLlmBehaviour =
  | { type: 'content'; content: string; reasoningContent?: string }
  | { type: 'status'; status: number; body: string }
  | { type: 'body'; status: number; body: string | Buffer; chunked: boolean }
  | { type: 'hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body, or the text when it is not JSON, or undefined when empty. */
  body: unknown;
}

/** A completion whose `choices[0].message.content` is `JSON.stringify(answer)`. */
export function json(answer: unknown): FakeLlmBehaviour {
  return { type: 'content', content: JSON.stringify(answer) };
}

/** A completion whose content is `content` verbatim (thinking blocks, prose, broken JSON …). */
export function text(content: string, options: { reasoningContent?: string } = {}): FakeLlmBehaviour {
  return { type: 'content', content, ...options };
}

/** An HTTP error with an OpenAI-style error body. */
export function status(code: number, message = `fake LLM error ${code}`): FakeLlmBehaviour {
  return { type: 'status', status: code, body: JSON.stringify({ error: { message, type: 'server_error' } }) };
}

/** Accepts the request and never answers. */
export function hang(): FakeLlmBehaviour {
  return { type: 'hang' };
}

/** HTTP 200 with a body that is not JSON (a proxy's HTML page). */
export function garbage(): FakeLlmBehaviour {
  return { type: 'body', status: 200, body: '<html><body>502 Bad Gateway</body></html>\u0000\u00ff', chunked: false };
}

/** HTTP 200 with this exact body (JSON-encoded unless a string): e.g. a completion without `choices`. */
export function body(value: unknown, code = 200): FakeLlmBehaviour {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return { type: 'body', status: code, body: text, chunked: false };
}

/** HTTP 200 with a JSON-looking body of `bytes` bytes, streamed without a content-length unless `declared`. */
export function oversized(bytes: number, declared = false): FakeLlmBehaviour {
  const filler = Buffer.alloc(bytes, 0x20);
  filler.write('{"choices":[{"message":{"content":"', 0);
  return { type: 'body', status: 200, body: filler, chunked: !declared };
}

function completion(model: unknown, content: string, reasoningContent: string | undefined) {
  const message = {
    role: 'assistant',
    content,
    ...(reasoningContent === undefined ? {} : { reasoning_content: reasoningContent }),
  };
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: typeof model === 'string' ? model : 'fake',
    choices: [{ index: 0, message, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class FakeLlmServer {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: FakeLlmBehaviour[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  /** Starts listening on 127.0.0.1 with a random port. */
  static async start(): Promise<FakeLlmServer> {
    const fake = new FakeLlmServer();
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>` (no `/v1`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Appends behaviours; each chat completion request takes the next one. */
  reply(...behaviours: FakeLlmBehaviour[]): this {
    this.queue.push(...behaviours);
    return this;
  }

  /** Behaviours not used yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Chat completion requests received. */
  get completions(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/chat/completions'));
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown = text === '' ? undefined : text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // recorded as text
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body: parsed });
      this.route(req.method ?? 'GET', path, parsed, res);
    });
  }

  private route(method: string, path: string, requestBody: unknown, res: http.ServerResponse): void {
    if (method === 'GET' && path === '/v1/models') {
      send(res, 200, JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model' }] }));
    } else if (method === 'POST' && path === '/v1/chat/completions') {
      this.play(this.queue.shift(), requestBody, res);
    } else {
      send(res, 404, JSON.stringify({ error: { message: `fake LLM has no route ${method} ${path}` } }));
    }
  }

  private play(behaviour: FakeLlmBehaviour | undefined, requestBody: unknown, res: http.ServerResponse): void {
    if (behaviour === undefined) {
      send(res, 500, JSON.stringify({ error: { message: 'fake LLM: no scripted behaviour left for this request' } }));
      return;
    }
    switch (behaviour.type) {
      case 'content': {
        const model =
          typeof requestBody === 'object' && requestBody !== null ? Reflect.get(requestBody, 'model') : undefined;
        send(res, 200, JSON.stringify(completion(model, behaviour.content, behaviour.reasoningContent)));
        return;
      }
      case 'status':
        send(res, behaviour.status, behaviour.body);
        return;
      case 'body':
        if (behaviour.chunked) {
          res.writeHead(behaviour.status, { 'content-type': 'application/json' });
          res.end(behaviour.body);
        } else send(res, behaviour.status, behaviour.body);
        return;
      case 'hang':
        return;
    }
  }
}

function send(res: http.ServerResponse, code: number, payload: string | Buffer): void {
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** A URL on 127.0.0.1 where nothing listens (a port just released), for "connection refused". */
export async function unusedLocalUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
