import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { type CommandResult, type FreshInstall, freshInstall, runLine } from './fresh-install.js';

/**
 * `hsi household …` as a user types it, on a fresh install (embedded PGlite, the shared models on the CPU):
 * members added (with an enrolment photo), listed, enrolled again, refused with a clear reason, removed.
 */

const SECOND = 1000;
let down: string | undefined;
let install: FreshInstall;

beforeAll(() => {
  down = missingAsset(
    modelPath('yolox_nano.onnx'),
    modelPath('person-reidentification-retail-0248.onnx'),
    modelPath('version-RFB-320.onnx'),
    modelPath('MobileFaceNet.onnx'),
    fixtureImage('person_astronaut.png'),
    fixtureImage('no_target_coffee.png'),
  );
  if (down !== undefined) return;
  install = freshInstall({ 'detector:\n  device': 'cpu' });
});

afterAll(() => install?.dispose());

async function hsi(args: string): Promise<CommandResult & { printed: string }> {
  const result = await runLine(`npx hsi household ${args}`, install.env, 60 * SECOND);
  expect(result.timedOut, `hsi household ${args} did not exit: ${result.stdout}`).toBe(false);
  const printed = result.stdout
    .split('\n')
    .filter((l) => !l.startsWith('{') && l.trim() !== '')
    .join('\n');
  return { ...result, printed };
}

describe('hsi household', () => {
  it(
    'adds a member with a photo, lists, enrols again, refuses bad input with the reason, removes every vector',
    async (ctx) => {
      if (down !== undefined) ctx.skip(down);
      const astronaut = JSON.stringify(fixtureImage('person_astronaut.png'));
      const coffee = JSON.stringify(fixtureImage('no_target_coffee.png'));

      const added = await hsi(`add --name "Jane" --role family --trust full --photo ${astronaut}`);
      expect({ code: added.code, stderr: added.stderr }).toStrictEqual({ code: 0, stderr: '' });
      expect(added.printed).toMatch(/^added Jane \(id 1, family, trust full\)$/m);
      expect(added.printed).toMatch(/^enrolled .*person_astronaut\.png: appearance vector, face enrolled \(quality/m);

      const taken = await hsi('add --name jane');
      expect(taken.code).toBe(1);
      expect(taken.stderr).toMatch(/^hsi: a household member is named "Jane" already \(id 1\)/);
      const badRole = await hsi('add --name Bob --role butler');
      expect([badRole.code, badRole.stderr.trim()]).toStrictEqual([
        1,
        'hsi: --role must be one of resident, family, service_worker, frequent_visitor, got "butler"',
      ]);
      const noPerson = await hsi(`add --name Bob --photo ${coffee}`);
      expect(noPerson.code).toBe(1);
      expect(noPerson.stderr).toMatch(/no_target_coffee\.png: no person found on the photo/);
      const noVerb = await hsi('');
      expect([noVerb.code, noVerb.stderr]).toStrictEqual([1, expect.stringMatching(/^hsi: name what to do/)]);

      const again = await hsi(`enrol jane ${astronaut}`);
      expect({ code: again.code, stderr: again.stderr }).toStrictEqual({ code: 0, stderr: '' });
      const listed = await hsi('list');
      expect(listed.code).toBe(0);
      // Bob was refused before anything was stored; Jane has two appearance and two face vectors.
      expect(listed.printed.split('\n')).toStrictEqual([
        expect.stringMatching(/^id +name +role +trust +appearance +faces$/),
        expect.stringMatching(/^1 +Jane +family +full +2 +2$/),
      ]);
      const unknown = await hsi('remove Bob');
      expect([unknown.code, unknown.stderr.trim()]).toStrictEqual([
        1,
        'hsi: no household member Bob (hsi household list)',
      ]);

      const removed = await hsi('remove 1');
      expect({ code: removed.code, stderr: removed.stderr }).toStrictEqual({ code: 0, stderr: '' });
      expect(removed.printed).toMatch(/^removed Jane \(id 1\) with 2 appearance and 2 face vector\(s\)/m);
      const empty = await hsi('list');
      expect(empty.printed).toBe('no household members (hsi household add --name NAME)');
    },
    300 * SECOND,
  );
});
