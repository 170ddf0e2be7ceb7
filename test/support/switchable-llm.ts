import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible chat completions endpoint on 127.0.0.1 whose behaviour a test switches while a service runs
 * against it (the scripted `FakeLlmServer` answers one request per behaviour; this one answers by mode):
 * - `ok`: a valid risk assessment whose summary is unique (`fake assessment #<n>`), so a stored event shows which
 *   answer it came from;
 * - `slow`: the same answer after `slowMs` (longer than the client's timeout: a timeout);
 * - `garbage`: HTTP 200 with an HTML body;
 * - `down`: the listener is closed, so connections are refused; leaving `down` listens on the same port again.
 * Every request is recorded with the mode that answered it.
 */

export type LlmMode = 'ok' | 'slow' | 'garbage' | 'down';

export interface ServedRequest {
  mode: LlmMode;
  at: number;
  /** The summary of an `ok` (or `slow`) answer. */
  summary?: string;
}

const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class SwitchableLlm {
  readonly served: ServedRequest[] = [];
  private current: LlmMode = 'ok';
  private answers = 0;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  private constructor(
    private port: number,
    /** Delay of the `slow` mode. */
    readonly slowMs: number,
  ) {}

  static async start(options: { slowMs: number }): Promise<SwitchableLlm> {
    const llm = new SwitchableLlm(0, options.slowMs);
    await llm.listen();
    llm.port = (llm.server.address() as AddressInfo).port;
    return llm;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): LlmMode {
    return this.current;
  }

  /** Answers from now on in `mode`; `down` stops listening (open connections are cut), leaving it listens again. */
  async setMode(mode: LlmMode): Promise<void> {
    const wasDown = this.current === 'down';
    this.current = mode;
    if (mode === 'down' && !wasDown) {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
    } else if (mode !== 'down' && wasDown) {
      await this.listen();
    }
  }

  async close(): Promise<void> {
    if (this.current === 'down') return;
    this.current = 'down';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) req.destroy();
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (req.method !== 'POST' || path !== '/v1/chat/completions') {
        send(res, 404, JSON.stringify({ error: { message: `no route ${req.method} ${path}` } }));
        return;
      }
      const mode = this.current;
      if (mode === 'garbage') {
        this.served.push({ mode, at: Date.now() });
        send(res, 200, '<html><body>502 Bad Gateway</body></html>');
        return;
      }
      this.answers += 1;
      const summary = `fake assessment #${this.answers}`;
      this.served.push({ mode, at: Date.now(), summary });
      const body = JSON.stringify(completion(summary));
      if (mode === 'slow') {
        const timer = setTimeout(() => send(res, 200, body), this.slowMs);
        res.once('close', () => clearTimeout(timer));
      } else send(res, 200, body);
    });
  }
}

function completion(summary: string) {
  const answer = {
    risk_score: 20,
    risk_level: 'low',
    summary,
    reasoning: 'A person is visible; nothing suggests intent.',
    recommended_action: 'None.',
  };
  return {
    id: 'chatcmpl-switchable',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'fake',
    choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify(answer) }, finish_reason: 'stop' }],
  };
}

function send(res: http.ServerResponse, code: number, payload: string): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
