import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COCO_LABELS, loadLabels } from '../../../src/detection/coco-labels.js';

describe('COCO_LABELS', () => {
  it('has the 80 classes in model order', () => {
    expect(COCO_LABELS).toHaveLength(80);
    expect([COCO_LABELS[0], COCO_LABELS[2], COCO_LABELS[16], COCO_LABELS[60], COCO_LABELS[79]]).toStrictEqual([
      'person',
      'car',
      'dog',
      'diningtable',
      'toothbrush',
    ]);
    expect(new Set(COCO_LABELS).size).toBe(80);
  });
});

describe('loadLabels', () => {
  it('returns COCO without a file', async () => {
    expect(await loadLabels()).toBe(COCO_LABELS);
  });

  it('reads one label per line, trimming spaces, CRLF and blank lines', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hsi-labels-'));
    const file = path.join(dir, 'custom.names');
    await writeFile(file, 'person\r\n  delivery van \r\n\r\nfox\n');
    expect(await loadLabels(file)).toStrictEqual(['person', 'delivery van', 'fox']);
  });

  it('fails with CONFIG_FILE naming a missing or empty file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'hsi-labels-'));
    await expect(loadLabels(path.join(dir, 'nope.names'))).rejects.toMatchObject({
      code: 'CONFIG_FILE',
      message: expect.stringContaining(`cannot read labels file ${path.join(dir, 'nope.names')}`),
    });
    const empty = path.join(dir, 'empty.names');
    await writeFile(empty, '\n\n');
    await expect(loadLabels(empty)).rejects.toMatchObject({
      code: 'CONFIG_FILE',
      message: expect.stringMatching(/has no labels/),
    });
  });
});
