import { describe, expect, it } from 'vitest';
import { formatImportReport } from '../../../src/ops/cli-ops.js';

describe('hsi import output', () => {
  it('prints the outcome, then one count per line, explaining those that are not zero', () => {
    const report = { scanned: 5, copied: 4, queued: 3, duplicates: 1, rejected: 1, known: 0, unplaced: 0, skipped: 0 };
    expect(formatImportReport(report, false).split('\n')).toStrictEqual([
      '3 file(s) left queued: HSI processes them at its next start',
      'scanned:    5  (supported files found)',
      'copied:     4  (into the media root)',
      'queued:     3  (for detection)',
      'duplicates: 1  (same content as a file already stored)',
      'rejected:   1  (refused: see the warnings above, and `hsi status`)',
      'known:      0',
      'unplaced:   0',
      'skipped:    0',
      '',
    ]);
  });
});
