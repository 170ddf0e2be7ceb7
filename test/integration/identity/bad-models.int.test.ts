import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/lib/logger.js';
import { enrichmentRunsOf } from '../../../src/storage/enrichment.repository.js';
import { fixtureImage, missingAsset, modelPath } from '../../support/env.js';
import { startTestHsi, type TestHsi, waitFor, waitForMedia } from '../../support/hsi.js';

const PHOTO = fixtureImage('person_astronaut.png');
const assetsMissing = missingAsset(
  modelPath('yolox_nano.onnx'),
  modelPath('person-reidentification-retail-0248.onnx'),
  PHOTO,
);

describe.skipIf(assetsMissing !== undefined)('identity with the face detector model missing', () => {
  let t: TestHsi;
  const root = mkdtempSync(path.join(os.tmpdir(), 'hsi-bad-models-'));
  const logged: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    // Every log line, to see what the owner is told at start.
    const sink = { write: (line: string) => logged.push(JSON.parse(line) as { level: number; msg: string }) };
    const log = createLogger('info', sink as unknown as NodeJS.WritableStream);
    const env = {
      HSI_IDENTITY_ENABLED: 'true',
      HSI_IDENTITY_FACES_DETECTOR_MODEL: path.join(root, 'missing', 'version-RFB-320.onnx'),
      HSI_BATCHING_IDLE_SECONDS: '1',
    };
    t = await startTestHsi('pglite+memory', env, {}, log);
    await t.hsi.reconciled;
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('starts, names the missing file and its setting, and re-identifies and detects as usual', async () => {
    const errors = logged.filter((l) => l.level >= 50).map((l) => l.msg);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('frame processor faces did not start');
    expect(errors[0]).toContain('identity.faces.detector_model');
    expect(errors[0]).toContain(path.join(root, 'missing', 'version-RFB-320.onnx'));

    mkdirSync(path.join(t.mediaRoot, 'porch'), { recursive: true });
    copyFileSync(PHOTO, path.join(t.mediaRoot, 'porch', 'a.png'));
    const media = await waitForMedia(t.hsi.store.db, 'porch/a.png');
    const runs = await waitFor(async () => {
      const rows = await enrichmentRunsOf(t.hsi.store.db, media.id);
      return rows.length === 2 ? rows : undefined;
    });
    // The face step is recorded as not run, with why: nothing (a replay, the orphan sweep) waits for it.
    expect(runs.map((r) => [r.processor, r.status])).toStrictEqual([
      ['faces', 'failed'],
      ['person-reid', 'success'],
    ]);
    expect(runs[0]?.error).toContain('faces did not load');
    expect(runs[0]?.error).toContain('identity.faces.detector_model');
    const event = await waitFor(() =>
      t.hsi.store.db.selectFrom('events').selectAll().where('camera_id', '=', 'porch').executeTakeFirst(),
    );
    expect(event.object_types).toContain('person');
    expect(await t.hsi.store.db.selectFrom('face_detection_events').selectAll().execute()).toStrictEqual([]);
  });
});
