import { describe, expect, it } from 'vitest';
import { chooseExecutionProvider } from '../../../src/detection/execution-provider.js';

describe('chooseExecutionProvider', () => {
  it('uses the CPU when asked, whatever is installed', () => {
    expect(chooseExecutionProvider('cpu', true)).toBe('cpu');
    expect(chooseExecutionProvider('cpu', false)).toBe('cpu');
  });

  it('tries CUDA under auto only when its provider files are present', () => {
    expect(chooseExecutionProvider('auto', true)).toBe('cuda');
    expect(chooseExecutionProvider('auto', false)).toBe('cpu');
  });

  it('fails with DEVICE_UNAVAILABLE when cuda is required but absent', () => {
    expect(() => chooseExecutionProvider('cuda', false)).toThrow(
      expect.objectContaining({
        code: 'DEVICE_UNAVAILABLE',
        message: expect.stringContaining('CUDA execution provider files are not in this onnxruntime-node build'),
      }),
    );
    expect(chooseExecutionProvider('cuda', true)).toBe('cuda');
  });
});
