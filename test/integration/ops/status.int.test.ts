import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { showStatus } from '../../../src/ops/media-commands.js';
import { recordRejection } from '../../../src/storage/media-file.repository.js';
import { createTestStore, engineUnavailable, type TestStore } from '../../support/stores.js';

/** `hsi status` counts every upload, also those ingest refused before they got a `media_files` row. */

let down: string | undefined;
let test: TestStore;

beforeAll(async () => {
  down = await engineUnavailable('postgres');
  if (down === undefined) test = await createTestStore('postgres');
});

afterAll(async () => test?.dispose());

beforeEach((ctx) => {
  if (down !== undefined) ctx.skip(down);
});

async function status(): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  await showStatus(test.store, out);
  return text;
}

describe('hsi status', () => {
  it('counts the uploads refused before they got a row, by code', async () => {
    expect(await status()).toBe(
      ['queued      0', 'processing  0', 'done        0', 'failed      0', 'rejected    0', 'refused     0', ''].join(
        '\n',
      ),
    );
    const refusal = { cameraId: 'front_door', size: 10, modifiedAt: new Date(), reason: 'test' };
    await recordRejection(test.store.db, { ...refusal, path: 'Front Door/a.txt.jpg', code: 'MEDIA_UNSUPPORTED' });
    await recordRejection(test.store.db, { ...refusal, path: 'Front Door/b.gif', code: 'MEDIA_UNSUPPORTED' });
    await recordRejection(test.store.db, { ...refusal, path: 'Front Door/c.jpg', code: 'MEDIA_CORRUPT' });
    expect((await status()).split('\n').slice(5)).toStrictEqual([
      'refused     3  (uploads refused before they got a row: MEDIA_UNSUPPORTED 2, MEDIA_CORRUPT 1)',
      '',
    ]);
  });
});
