import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/ops/cli-usage.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { type CommandResult, type FreshInstall, freshInstall, logLines, runLine } from './fresh-install.js';

/**
 * Every command the README documents, run exactly as written on a fresh install (embedded defaults, temp config):
 * each does what the README says and exits; none starts the service.
 */

const README = readFileSync('README.md', 'utf8');

/** `hsi NAME` of each row of the README's command table. */
function tableCommands(): string[] {
  const section = README.slice(
    README.indexOf('## Commands'),
    README.indexOf('\n## ', README.indexOf('## Commands') + 1),
  );
  return [...section.matchAll(/^\| `hsi ([a-z-]+)/gm)].map((m) => m[1] ?? '');
}

/** The `npm start -- …` and `npx hsi …` lines of the README's sh code blocks, comments removed. */
function codeBlockCommands(): string[] {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => /^(npm start -- |npx hsi )/.test(line));
}

let down: string | undefined;
let install: FreshInstall;

beforeAll(() => {
  down = missingAsset(modelPath('yolox_nano.onnx'), fixtureImage('person_astronaut.png'));
  if (down !== undefined) return;
  install = freshInstall();
  // npx as a new user has it: no npx cache from earlier runs.
  install.env.npm_config_cache = path.join(install.root, 'npm-cache');
});

afterAll(() => install?.dispose());

const SECOND = 1000;

async function run(line: string, timeoutMs = 30 * SECOND): Promise<CommandResult> {
  const result = await runLine(line, install.env, timeoutMs);
  const messages = logLines(result.stdout).map((l) => l.msg);
  // A command that starts the service instead of doing its job is the defect this file guards against.
  expect(messages, line).not.toContain('HSI ready');
  expect(result.timedOut, `${line} did not exit within ${timeoutMs / SECOND} s: ${result.stdout}`).toBe(false);
  return result;
}

/** The output without npm's banner and HSI's JSON log lines: what the command printed for the user. */
function printed(result: CommandResult): string {
  return result.stdout
    .split('\n')
    .filter((l) => !l.startsWith('{') && !l.startsWith('> ') && l.trim() !== '')
    .join('\n');
}

describe('the README commands', () => {
  it('the command table lists every command hsi has', (ctx) => {
    if (down !== undefined) ctx.skip(down);
    expect(tableCommands().sort()).toStrictEqual(COMMANDS.map((c) => c.name).sort());
  });

  it(
    '`hsi <command> --help` prints that command’s usage, through npx before any build',
    async (ctx) => {
      if (down !== undefined) ctx.skip(down);
      for (const name of tableCommands()) {
        const result = await run(`npx hsi ${name} --help`);
        expect({ name, code: result.code, stderr: result.stderr }).toStrictEqual({ name, code: 0, stderr: '' });
        expect(result.stdout.split('\n')[0]).toMatch(new RegExp(`^Usage: hsi ${name}( |$)`));
      }
    },
    120 * SECOND,
  );

  it(
    'each command does what the README says and exits',
    async (ctx) => {
      if (down !== undefined) ctx.skip(down);
      // From the code blocks: `npm start -- status` (first, on the fresh data_dir: it creates the database).
      const documented = codeBlockCommands();
      expect(documented).toContain('npm start -- status');
      for (const line of documented) {
        const result = await run(line, 60 * SECOND);
        expect({ line, code: result.code }).toStrictEqual({ line, code: 0 });
      }

      const status = await run('npm start -- status');
      expect(status.code).toBe(0);
      expect(printed(status)).toMatch(/^queued +0\nprocessing +0\ndone +0\nfailed +0\nrejected +0$/m);

      const doctor = await run('npm start -- doctor', 60 * SECOND);
      expect(printed(doctor)).toMatch(/^ok +configuration +valid$/m);
      expect(printed(doctor)).toMatch(/^ok +database +embedded PGlite/m);
      expect(printed(doctor)).toMatch(/^(all good|\d+ checks? failed) \(\d+ ok, \d+ skipped\)$/m);

      const migrate = await run('npx hsi migrate');
      expect({ code: migrate.code, printed: printed(migrate) }).toStrictEqual({
        code: 0,
        printed: 'database is up to date',
      });

      const deadLetters = await run('npx hsi dead-letters');
      expect({ code: deadLetters.code, printed: printed(deadLetters) }).toStrictEqual({
        code: 0,
        printed: 'no dead letters',
      });

      const requeue = await run('npx hsi requeue --all');
      expect({ code: requeue.code, printed: printed(requeue) }).toStrictEqual({
        code: 0,
        printed: 'requeued 0 file(s)',
      });

      const retention = await run('npx hsi retention');
      expect(retention.code).toBe(0);
      expect(printed(retention)).toMatch(/\bevents\b.*0/);

      const archive = path.join(install.root, 'archive');
      mkdirSync(path.join(archive, 'Front Door'), { recursive: true });
      cpSync(fixtureImage('person_astronaut.png'), path.join(archive, 'Front Door', 'person.png'));
      const imported = await run(`npx hsi import ${JSON.stringify(archive)}`);
      expect({ code: imported.code, stderr: imported.stderr }).toStrictEqual({ code: 0, stderr: '' });
      expect(printed(imported)).toMatch(/^queued: +1 /m);

      const reprocess = await run('npx hsi reprocess front_door');
      expect({ code: reprocess.code, stderr: reprocess.stderr }).toStrictEqual({ code: 0, stderr: '' });

      const after = await run('npm start -- status');
      expect(printed(after)).toMatch(/^queued +1$/m);
    },
    300 * SECOND,
  );
});
