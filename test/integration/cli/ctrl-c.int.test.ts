import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingAsset, modelPath } from '../../support/env.js';
import { type FreshInstall, freshInstall, killGroup, logLines } from './fresh-install.js';

/**
 * Ctrl-C on `npm start`: the terminal sends SIGINT to the whole foreground process group (npm, its shell, HSI), and
 * npm forwards it to its child too, so HSI gets it more than once. One Ctrl-C must still be one clean stop.
 */

let down: string | undefined;
let install: FreshInstall;

beforeAll(() => {
  down = missingAsset(modelPath('yolox_nano.onnx'));
  if (down === undefined) install = freshInstall();
});

afterAll(() => install?.dispose());

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
}

/**
 * Starts `command` in its own process group; once "HSI ready", sends SIGINT to the group as a terminal's Ctrl-C
 * does, `times` times 20 ms apart (a forwarding parent's copy comes a moment later; signals sent at the very same
 * moment would merge into one).
 */
function startAndCtrlC(command: string[], env: NodeJS.ProcessEnv, times = 1): Promise<Run> {
  return new Promise((resolve, reject) => {
    const [file = 'npm', ...args] = command;
    const child = spawn(file, args, { cwd: process.cwd(), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const timer = setTimeout(() => {
      killGroup(child.pid, 'SIGKILL');
      reject(new Error(`no clean stop within 60 s; stdout: ${stdout.slice(-3000)}; stderr: ${stderr.slice(-2000)}`));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && logLines(stdout).some((l) => l.msg === 'HSI ready')) {
        interrupted = true;
        for (let i = 0; i < times; i += 1) setTimeout(() => killGroup(child.pid, 'SIGINT'), i * 20);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (!interrupted) reject(new Error(`exited (${code}) before "HSI ready"; stderr: ${stderr.slice(-2000)}`));
      else resolve({ code, signal, stdout });
    });
  });
}

function expectCleanStop(run: Run, attempt: string): void {
  const messages = logLines(run.stdout).map((l) => l.msg);
  expect(
    messages.filter((m) => m === 'stopping'),
    attempt,
  ).toHaveLength(1);
  expect(messages, attempt).not.toContain('second signal: exiting now');
  expect(messages.at(-1), attempt).toBe('stopped');
  expect(existsSync(path.join(install.dataDir, 'hsi.pid')), attempt).toBe(false);
}

describe('Ctrl-C', () => {
  it('on `npm start` stops cleanly every time: a final "stopped" line, no pid file left', async (ctx) => {
    if (down !== undefined) ctx.skip(down);
    // npm forwards the SIGINT it gets to its child as well; it then exits 130 itself whatever the child did.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expectCleanStop(await startAndCtrlC(['npm', 'start'], install.env), `npm start, attempt ${attempt}`);
    }
  }, 240_000);

  it('delivered twice (terminal + forwarding parent) is one clean stop with exit status 0', async (ctx) => {
    if (down !== undefined) ctx.skip(down);
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const run = await startAndCtrlC([process.execPath, 'bin/hsi.mjs'], install.env, 2);
      expectCleanStop(run, `hsi, attempt ${attempt}`);
      expect({ attempt, code: run.code, signal: run.signal }).toStrictEqual({ attempt, code: 0, signal: null });
    }
  }, 240_000);
});
