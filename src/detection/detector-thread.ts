import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { FromThread, ThreadDetectorOptions, ToThread } from './detector-protocol.js';
import { serializeError } from './detector-protocol.js';
import { OnnxObjectDetector } from './onnx-detector.js';

/**
 * The detector thread: owns the onnxruntime session and runs one image, decoded by the main thread, per `detect`
 * message. onnxruntime-node runs a session synchronously on the calling thread, so on the main thread every
 * inference would stall ingest, the database, MQTT and the API for its whole duration; here it only occupies this
 * thread.
 */

const port = parentPort;
if (port === null) throw new Error('detector-thread.ts runs as a worker thread only');
const send = (message: FromThread) => port.postMessage(message);

const log = pino(
  { level: 'trace', base: { component: 'detector-thread' } },
  { write: (line: string) => send({ type: 'log', line }) },
);

let detector: OnnxObjectDetector | undefined;
try {
  detector = await OnnxObjectDetector.create({ ...(workerData as ThreadDetectorOptions), log });
  send({ type: 'ready', info: detector.info });
} catch (error) {
  send({ type: 'failed', error: serializeError(error) });
}

port.on('message', (message: ToThread) => {
  if (message.type === 'close') {
    void (async () => {
      await detector?.close();
      send({ type: 'closed' });
      port.close();
    })();
    return;
  }
  if (detector === undefined) {
    send({ type: 'error', id: message.id, error: { code: 'MODEL_INVALID', message: 'no detector', permanent: false } });
    return;
  }
  detector.infer(message.prepared).then(
    (result) => send({ type: 'result', id: message.id, result }),
    (error: unknown) => send({ type: 'error', id: message.id, error: serializeError(error) }),
  );
});
