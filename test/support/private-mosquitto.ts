import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireServices } from './env.js';
import { freePort } from './private-redis.js';
import { reachable } from './services.js';

/** Skip reason when the `mosquitto` binary is missing, undefined when present (an error under REQUIRE_SERVICES=1). */
export function privateMosquittoUnavailable(): string | undefined {
  const probe = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' });
  if (probe.error === undefined) return undefined;
  const reason = `the mosquitto binary is not on PATH (${probe.error.message})`;
  if (requireServices) throw new Error(`REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/**
 * A Mosquitto broker of the test's own on 127.0.0.1 (no persistence: a restart forgets every retained message and
 * session, like a broker whose volume was lost), so a test can kill and restart it without touching the shared one.
 */
export class PrivateMosquitto {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly root: string,
  ) {}

  static async start(): Promise<PrivateMosquitto> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hsi-mosquitto-'));
    const broker = new PrivateMosquitto(await freePort(), root);
    writeFileSync(
      broker.configFile,
      [`listener ${broker.port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest none', ''].join(
        '\n',
      ),
    );
    await broker.up();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  private get configFile(): string {
    return path.join(this.root, 'mosquitto.conf');
  }

  async up(): Promise<void> {
    this.child = spawn('mosquitto', ['-c', this.configFile], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await reachable(this.url, this.port, 200))) {
      if (this.child.exitCode !== null) throw new Error(`mosquitto exited (${this.child.exitCode}) on ${this.port}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not start on ${this.port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills the broker (SIGKILL: no will is published by it, clients see the TCP connection drop). */
  async down(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.down();
    rmSync(this.root, { recursive: true, force: true });
  }
}
