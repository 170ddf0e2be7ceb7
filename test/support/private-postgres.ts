import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { requireServices } from './env.js';
import { freePort } from './private-redis.js';

const run = promisify(execFile);

/** Where the PostgreSQL server binaries are (`HSI_TEST_PG_BIN`, default Debian's PostgreSQL 15). */
export function postgresBinDir(): string {
  return process.env.HSI_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
}

/**
 * Skip reason when no private cluster can be made here (binaries missing), undefined when it can. Under
 * `REQUIRE_SERVICES=1` a missing binary is an error, so CI cannot pass by skipping.
 */
export function privatePostgresUnavailable(): string | undefined {
  const missing = ['initdb', 'pg_ctl'].filter((b) => !existsSync(path.join(postgresBinDir(), b)));
  if (missing.length === 0) return undefined;
  const reason = `PostgreSQL server binaries missing in ${postgresBinDir()} (${missing.join(', ')}); set HSI_TEST_PG_BIN`;
  if (requireServices) throw new Error(`REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

/**
 * A PostgreSQL cluster of the test's own (initdb into a temp dir, trust auth, 127.0.0.1 on a free port), so a test
 * can stop and start it without touching the shared server. PostgreSQL refuses to run as root: as root the binaries
 * run as the `postgres` OS user (`runuser`), which owns the cluster's folder.
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly root: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hsi-pg-'));
    const cluster = new PrivatePostgres(await freePort(), root);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(root, uid, gid);
    }
    await cluster.bin('initdb', ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    await cluster.up();
    return cluster;
  }

  get dataDir(): string {
    return path.join(this.root, 'data');
  }

  /** URL of `database` (default the `postgres` maintenance database). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Starts the server and waits until it accepts connections. */
  async up(): Promise<void> {
    const options = `-p ${this.port} -k ${os.tmpdir()} -c listen_addresses=127.0.0.1 -c fsync=off`;
    await this.bin('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      path.join(this.root, 'server.log'),
      '-w',
      'start',
    ]);
  }

  /**
   * Stops the server: `immediate` is a crash (no checkpoint, every connection cut, recovery at the next start),
   * `fast` a clean shutdown that still disconnects every client.
   */
  async down(mode: 'fast' | 'immediate'): Promise<void> {
    await this.bin('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  /** The server's log, for failure messages. */
  serverLog(): string {
    const file = path.join(this.root, 'server.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Stops the server if it runs and removes the cluster. */
  async dispose(): Promise<void> {
    await this.down('immediate').catch(() => undefined);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async bin(name: string, args: string[]): Promise<void> {
    const file = path.join(postgresBinDir(), name);
    const [cmd, cmdArgs] =
      process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    try {
      await run(cmd, cmdArgs, { timeout: 60_000 });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new Error(`${name} failed for the private PostgreSQL on port ${this.port}: ${detail}`);
    }
  }
}
