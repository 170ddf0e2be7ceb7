import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { type FreshInstall, freshInstall, killGroup, logLines } from './fresh-install.js';

/**
 * The README quickstart at the default log level: `npm start`, drop a photo in "media/Front Door/", and the line the
 * README shows appears, one per file, with what was found, or "no targets".
 */

const PERSON = fixtureImage('person_astronaut.png');
const NOTHING = fixtureImage('no_target_coffee.png');

/** The example log line in the README's quickstart, its `…` left out: the fields a user is told to expect. */
function readmeExample(): Record<string, unknown> {
  const readme = readFileSync('README.md', 'utf8');
  const line = /^#\s+(\{"level":30,…,.*"msg":"file processed"\})$/m.exec(readme)?.[1];
  if (line === undefined) throw new Error('the README quickstart shows no "file processed" line');
  return JSON.parse(line.replace('…,', '')) as Record<string, unknown>;
}

let down: string | undefined;
let install: FreshInstall;

beforeAll(() => {
  down = missingAsset(modelPath('yolox_nano.onnx'), PERSON, NOTHING);
  if (down === undefined) install = freshInstall();
});

afterAll(() => install?.dispose());

describe('README quickstart', () => {
  it('logs one "file processed" line per photo at info, as the README shows', async (ctx) => {
    if (down !== undefined) ctx.skip(down);
    const child = spawn('npm', ['start'], {
      cwd: process.cwd(),
      env: install.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const until = async (what: string, test: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!test()) {
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for ${what}; stdout: ${stdout.slice(-3000)}; stderr: ${stderr.slice(-1000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const processed = () => logLines(stdout).filter((l) => l.msg === 'file processed');
    try {
      await until('HSI ready', () => logLines(stdout).some((l) => l.msg === 'HSI ready'), 60_000);
      const camera = path.join(install.mediaRoot, 'Front Door');
      mkdirSync(camera);
      copyFileSync(PERSON, path.join(camera, 'person_astronaut.png'));
      await until('the photo processed', () => processed().length >= 1, 60_000);
      copyFileSync(NOTHING, path.join(camera, 'coffee.png'));
      await until('the second photo processed', () => processed().length >= 2, 60_000);
    } finally {
      killGroup(child.pid, 'SIGINT');
      await Promise.race([closed, new Promise((r) => setTimeout(r, 30_000))]);
      killGroup(child.pid, 'SIGKILL');
    }

    const byPath = new Map(processed().map((l) => [l.path, l]));
    const person = byPath.get('Front Door/person_astronaut.png');
    expect(person).toMatchObject({ level: 30, camera_id: 'front_door', detections: 1, objects: { person: 1 } });
    expect(person).toMatchObject(readmeExample());
    expect(byPath.get('Front Door/coffee.png')).toMatchObject({
      level: 30,
      detections: 0,
      objects: {},
      summary: 'no targets',
    });
  }, 180_000);
});
