import { describe, expect, it } from 'vitest';
import { guessFamily, resolveModelIo, type ValueInfo } from '../../../src/detection/model-io.js';

const tensor = (name: string, shape: (number | string)[]): ValueInfo => ({
  name,
  isTensor: true,
  type: 'float32',
  shape,
});
const yoloxIn = [tensor('images', [1, 3, 416, 416])];
const yoloxOut = [tensor('output', [1, 3549, 85])];
const picoOut = [
  ...[2704, 676, 169, 49].map((n, i) => tensor(`scale_${i}`, [1, n, 80])),
  ...[2704, 676, 169, 49].map((n, i) => tensor(`scale_${i + 4}`, [1, n, 32])),
];

describe('resolveModelIo', () => {
  it('reads the input name, size, output names and class count', () => {
    expect(resolveModelIo('yolox', 'm.onnx', yoloxIn, yoloxOut)).toStrictEqual({
      inputName: 'images',
      inputWidth: 416,
      inputHeight: 416,
      outputNames: ['output'],
      classes: 80,
    });
    expect(resolveModelIo('picodet', 'p.onnx', [tensor('image', [1, 3, 416, 416])], picoOut).outputNames).toHaveLength(
      8,
    );
    expect(
      resolveModelIo('yolo', 'y.onnx', [tensor('images', [1, 3, 640, 640])], [tensor('output0', [1, 84, 8400])]),
    ).toStrictEqual({ inputName: 'images', inputWidth: 640, inputHeight: 640, outputNames: ['output0'], classes: 80 });
  });

  it('falls back to the family default size when input dims are symbolic', () => {
    const io = resolveModelIo(
      'yolo',
      'y.onnx',
      [tensor('images', ['batch', 3, 'h', 'w'])],
      [tensor('output0', ['batch', 84, 'anchors'])],
    );
    expect([io.inputWidth, io.inputHeight, io.classes]).toStrictEqual([640, 640, 80]);
    const yolox = resolveModelIo(
      'yolox',
      'x.onnx',
      [tensor('images', [1, 3, 'h', 'w'])],
      [tensor('output', [1, 'n', 85])],
    );
    expect([yolox.inputWidth, yolox.inputHeight]).toStrictEqual([416, 416]);
  });

  it('names expected and actual outputs, and the likely family, for a yolox file set as picodet', () => {
    expect(() => resolveModelIo('picodet', '/m/yolox_nano.onnx', yoloxIn, yoloxOut)).toThrow(
      "model /m/yolox_nano.onnx does not match model type 'picodet': expected 2L outputs: L score tensors " +
        "[1,N,classes] then L box tensors [1,N,4*bins] (picodet_s_416_coco.onnx: 4 + 4), got 1 tensor: 'output' " +
        "float32 [1,3549,85] (1 output); it looks like a 'yolox' model: set the model type",
    );
  });

  it('tells yolox and yolo apart by which dimension holds the anchors', () => {
    expect(() => resolveModelIo('yolo', 'x.onnx', yoloxIn, yoloxOut)).toThrow(/it looks like a 'yolox' model/);
    const yoloOut = [tensor('output0', [1, 84, 3549])];
    expect(() => resolveModelIo('yolox', 'y.onnx', yoloxIn, yoloOut)).toThrow(/it looks like a 'yolo' model/);
    expect(() => resolveModelIo('yolox', 'p.onnx', yoloxIn, picoOut)).toThrow(/it looks like a 'picodet' model/);
  });

  it('rejects inputs that are not one float32 NCHW image', () => {
    expect(() => resolveModelIo('yolox', 'f.onnx', [tensor('x', [1, 416, 416, 3])], yoloxOut)).toThrow(
      /expected a 3-channel NCHW input/,
    );
    expect(() =>
      resolveModelIo(
        'yolox',
        'f.onnx',
        [{ name: 'x', isTensor: true, type: 'float16', shape: [1, 3, 416, 416] }],
        yoloxOut,
      ),
    ).toThrow(/expected 1 float32 input \[1,3,height,width\], got 1 tensor: 'x' float16 \[1,3,416,416\]/);
  });

  it('rejects picodet levels whose score and box rows differ', () => {
    const swapped = [...picoOut.slice(0, 4), ...picoOut.slice(4).reverse()];
    expect(() => resolveModelIo('picodet', 'p.onnx', yoloxIn, swapped)).toThrow(
      /level 0: 2704 score rows but 49 box rows/,
    );
  });
});

describe('guessFamily', () => {
  it('returns undefined for layouts of no known family', () => {
    expect(guessFamily([tensor('a', [1, 10])])).toBeUndefined();
    expect(guessFamily([tensor('a', [1, 'n', 85])])).toBeUndefined();
  });
});
