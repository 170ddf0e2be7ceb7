import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assetsDir } from '../../support/env.js';

/**
 * What a new user has after `npm ci`: the embedded defaults (PGlite, in-process queue, embedded broker), here with
 * a temp configuration file (its own data_dir and media_root, free ports) instead of ./config.yaml, and none of the
 * caller's HSI_* variables. The commands run as the README writes them (`npm start -- status`, `npx hsi …`).
 */
export interface FreshInstall {
  root: string;
  dataDir: string;
  mediaRoot: string;
  env: NodeJS.ProcessEnv;
  dispose(): void;
}

export function freshInstall(yaml: Record<string, string> = {}): FreshInstall {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hsi-cli-'));
  const dataDir = path.join(root, 'data');
  const mediaRoot = path.join(root, 'media');
  mkdirSync(mediaRoot);
  const lines = {
    data_dir: JSON.stringify(dataDir),
    media_root: JSON.stringify(mediaRoot),
    'http:\n  port': '0',
    'mqtt:\n  embedded:\n    port': '0',
    ...yaml,
  };
  const configFile = path.join(root, 'config.yaml');
  writeFileSync(
    configFile,
    `${Object.entries(lines)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')}\n`,
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('HSI_')) env[key] = value;
  env.HSI_CONFIG = configFile;
  env.HSI_ASSETS_DIR = assetsDir();
  return { root, dataDir, mediaRoot, env, dispose: () => rmSync(root, { recursive: true, force: true }) };
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a shell command line in the checkout, in its own process group (killed whole on timeout, so a command that
 * wrongly starts the service cannot outlive the test).
 */
export function runLine(line: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', line], { cwd: process.cwd(), env, detached: true, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** The JSON log lines of an output (npm's own lines and plain text skipped). */
export function logLines(output: string): { msg: string; level: number; [key: string]: unknown }[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg: string; level: number }];
      } catch {
        return [];
      }
    });
}
