import { describe, expect, it } from 'vitest';
import { parseNvidiaSmi } from '../../../src/features/gpu-stats/gpu-sampler.js';

describe('parseNvidiaSmi', () => {
  it('reads one GPU', () => {
    expect(parseNvidiaSmi('NVIDIA GeForce RTX 3060, 37, 2150, 12288, 54, 71.32\n')).toStrictEqual([
      {
        gpuName: 'NVIDIA GeForce RTX 3060',
        gpuUtilization: 37,
        memoryUsed: 2150,
        memoryTotal: 12288,
        temperature: 54,
        powerUsage: 71.32,
      },
    ]);
  });

  it('reads several GPUs in order, with CRLF line ends and a trailing blank line', () => {
    const output = 'NVIDIA H100 80GB HBM3, 99, 70000, 81559, 61, 512.80\r\nTesla T4, 0, 3, 15360, 33, 9.87\r\n\r\n';
    expect(parseNvidiaSmi(output).map((g) => [g.gpuName, g.gpuUtilization, g.memoryUsed, g.powerUsage])).toStrictEqual([
      ['NVIDIA H100 80GB HBM3', 99, 70000, 512.8],
      ['Tesla T4', 0, 3, 9.87],
    ]);
  });

  it('turns [N/A] and [Not Supported] fields into null', () => {
    expect(parseNvidiaSmi('NVIDIA Jetson Orin, [N/A], [N/A], [N/A], 48, [Not Supported]')).toStrictEqual([
      {
        gpuName: 'NVIDIA Jetson Orin',
        gpuUtilization: null,
        memoryUsed: null,
        memoryTotal: null,
        temperature: 48,
        powerUsage: null,
      },
    ]);
  });

  it('keeps a name that contains commas, rounds fractional MiB, and skips malformed lines', () => {
    const output = [
      'Quadro RTX 4000, Max-Q, 5, 100.6, 8192, 40, 20',
      'No devices were found',
      'GPU, 1, 2',
      'A10, abc, 1, 2, 3, 4',
    ].join('\n');
    expect(parseNvidiaSmi(output)).toStrictEqual([
      {
        gpuName: 'Quadro RTX 4000, Max-Q',
        gpuUtilization: 5,
        memoryUsed: 101,
        memoryTotal: 8192,
        temperature: 40,
        powerUsage: 20,
      },
      { gpuName: 'A10', gpuUtilization: null, memoryUsed: 1, memoryTotal: 2, temperature: 3, powerUsage: 4 },
    ]);
  });

  it('finds nothing in empty output', () => {
    expect(parseNvidiaSmi('')).toStrictEqual([]);
    expect(parseNvidiaSmi('\n\n')).toStrictEqual([]);
  });
});
