import { spawn } from 'node:child_process';
import { AppError, permanentError } from '../lib/errors.js';

export interface ClipFrameOptions {
  /** ffmpeg executable: a name on PATH or an absolute path. */
  ffmpegPath: string;
  /** Frames sampled per second of video. */
  fps: number;
  /** At most this many frames. */
  maxFrames: number;
  /** ffmpeg is killed after this long. */
  timeoutMs: number;
  /** ffmpeg is killed when its JPEG output passes this many bytes. */
  maxBytes: number;
}

const STDERR_KEEP = 4096;

/**
 * Samples a clip into JPEG frames with ffmpeg (`-vf fps=N -frames:v M -f image2pipe -vcodec mjpeg -`).
 * Missing ffmpeg → permanent FFMPEG_MISSING; a clip ffmpeg cannot read → permanent MEDIA_CORRUPT with ffmpeg's
 * last error line; output over `maxBytes` → permanent MEDIA_TOO_LARGE; timeout → transient (retried).
 */
export function extractClipFrames(file: string, options: ClipFrameOptions): Promise<Buffer[]> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file];
  args.push('-vf', `fps=${options.fps}`, '-frames:v', String(options.maxFrames));
  args.push('-f', 'image2pipe', '-vcodec', 'mjpeg', '-q:v', '3', '-');
  return new Promise((resolve, reject) => {
    const child = spawn(options.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let failure: AppError | undefined;
    const stop = (error: AppError) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new AppError('TRANSIENT', `ffmpeg took over ${options.timeoutMs} ms on ${file}; killed`)),
      options.timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        stop(permanentError('MEDIA_TOO_LARGE', `frames of ${file} exceed ${options.maxBytes} bytes; ffmpeg killed`));
      } else {
        chunks.push(chunk);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(
          permanentError(
            'FFMPEG_MISSING',
            `ffmpeg not found (${options.ffmpegPath}): install ffmpeg to detect in clips, or set its path`,
            error,
          ),
        );
      } else {
        reject(new AppError('TRANSIENT', `ffmpeg could not start: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      if (code !== 0) {
        return reject(permanentError('MEDIA_CORRUPT', `ffmpeg cannot read ${file}: ${lastLine(stderr, code)}`));
      }
      const frames = splitJpegStream(Buffer.concat(chunks));
      if (frames.length === 0) return reject(permanentError('MEDIA_CORRUPT', `no video frames in ${file}`));
      resolve(frames);
    });
  });
}

/** Whether `ffmpeg -version` runs. */
export function ffmpegAvailable(ffmpegPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(ffmpegPath, ['-version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

function lastLine(stderr: string, code: number | null): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return lines.at(-1) ?? `exit code ${code}`;
}

/**
 * Splits concatenated JPEGs (an mjpeg image2pipe stream) into one buffer per image by walking JPEG markers:
 * segment lengths are skipped, entropy-coded data is scanned for the next non-stuffed, non-restart marker, so an
 * 0xFFD9 inside a segment (e.g. an EXIF thumbnail) does not end the frame. A trailing partial frame is dropped.
 */
export function splitJpegStream(stream: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let start = stream.indexOf(SOI);
  while (start >= 0) {
    const end = jpegEnd(stream, start);
    if (end < 0) break;
    frames.push(stream.subarray(start, end));
    start = stream.indexOf(SOI, end);
  }
  return frames;
}

const SOI = Buffer.from([0xff, 0xd8]);

/** Offset just past the EOI of the JPEG starting at `start`, or -1 when it is incomplete. */
function jpegEnd(buf: Buffer, start: number): number {
  let pos = start + 2;
  while (pos + 1 < buf.length) {
    if (buf[pos] !== 0xff) return -1;
    const marker = buf[pos + 1] as number;
    if (marker === 0xff) {
      pos += 1; // fill byte
    } else if (marker === 0xd9) {
      return pos + 2;
    } else if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
    } else {
      if (pos + 3 >= buf.length) return -1;
      pos += 2 + buf.readUInt16BE(pos + 2);
      if (marker === 0xda) pos = skipEntropyData(buf, pos);
    }
  }
  return -1;
}

function skipEntropyData(buf: Buffer, from: number): number {
  let pos = from;
  while (pos + 1 < buf.length) {
    if (buf[pos] === 0xff) {
      const next = buf[pos + 1] as number;
      if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7)) return pos;
    }
    pos++;
  }
  return buf.length;
}
