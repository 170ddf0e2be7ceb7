import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** HSI running as a real child process (`node --import tsx src/cli.ts run`), its JSON log lines collected. */
export class HsiProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private readonly waiters: { test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      this.lines.push(line);
      for (const w of [...this.waiters]) {
        if (w.test(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** `built`: run `dist/cli.js` (after `npm run build`) instead of the sources through tsx. */
  static start(env: Record<string, string>, args: string[] = ['run'], built = false): HsiProcess {
    const entry = built ? [path.join('dist', 'cli.js')] : ['--import', 'tsx', path.join('src', 'cli.ts')];
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: process.cwd(),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new HsiProcess(child);
  }

  /** Resolves with the first log line (past or future) that passes `test`. */
  waitForLine(test: (l: LogLine) => boolean, timeoutMs = 30_000, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `timed out waiting for ${what}; last warnings and errors: ${this.problems()}; ` +
              `stderr: ${this.stderr.join('').slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(`HSI exited (${code}) while waiting for ${what}; stderr: ${this.stderr.join('').slice(-2000)}`),
        );
      });
    });
  }

  /** The last `count` log lines at warn level or above, as JSON, for a timeout's message. */
  problems(count = 8): string {
    const lines = this.lines.filter((l) => l.level >= 40).slice(-count);
    return lines.length === 0 ? 'none' : lines.map((l) => JSON.stringify(l).slice(0, 400)).join(' | ');
  }

  ready(timeoutMs = 30_000): Promise<LogLine> {
    return this.waitForLine((l) => l.msg === 'HSI ready', timeoutMs, 'HSI ready');
  }

  /**
   * Polls this process's `/api/stats` until at least `count` media files are in a final status (done, rejected,
   * failed). After a SIGKILL, counting "file processed" log lines can come up short for good: a file committed just
   * before the kill may never have had its line written. The database is the truth; the API reads it.
   */
  async waitForFilesFinished(count: number, timeoutMs: number): Promise<Record<string, number>> {
    const api = (await this.waitForLine((l) => l.msg === 'HTTP API listening', 30_000, 'the HTTP API')).url as string;
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, number> = {};
    while (Date.now() < deadline) {
      const response = await fetch(`${api}/api/stats`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      if (response?.ok) {
        last = ((await response.json()) as { media_files: Record<string, number> }).media_files;
        const finished = (last.done ?? 0) + (last.rejected ?? 0) + (last.failed ?? 0);
        if (finished >= count) return last;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${count} files to finish; media files by status: ` +
        `${JSON.stringify(last)}; last warnings and errors: ${this.problems()}`,
    );
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }

  exit(): Promise<number | null> {
    return this.exited;
  }
}
