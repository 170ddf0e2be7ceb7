import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ffmpegAvailable } from '../../src/detection/clip-frames.js';
import { fixtureImage } from './env.js';

/** Whether ffmpeg runs here; with REQUIRE_FFMPEG=1 (CI) its absence is an error, not a skip. */
export async function ffmpegMissing(): Promise<string | undefined> {
  const has = await ffmpegAvailable('ffmpeg');
  if (!has && process.env.REQUIRE_FFMPEG === '1') throw new Error('REQUIRE_FFMPEG=1 but ffmpeg does not run');
  return has ? undefined : 'ffmpeg not installed';
}

/** A 3 s MP4 at 5 fps of a still photo (default: the astronaut), made with ffmpeg itself. */
export function makePhotoClip(target: string, photo = fixtureImage('person_astronaut.png')): void {
  mkdirSync(path.dirname(target), { recursive: true });
  execFileSync('ffmpeg', [
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-t',
    '3',
    '-i',
    photo,
    '-vf',
    'fps=5,format=yuv420p',
    '-c:v',
    'libx264',
    target,
  ]);
}
