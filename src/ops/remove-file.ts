import { unlink } from 'node:fs/promises';
import path from 'node:path';

/** What happened to a file HSI meant to remove. `missing`: already gone, which is as good as removed. */
export type RemoveOutcome = { kind: 'removed' } | { kind: 'missing' } | { kind: 'failed'; error: string };

/** Unlinks one file (a symlink itself, never its target); never throws. */
export async function removeFile(file: string): Promise<RemoveOutcome> {
  try {
    await unlink(file);
    return { kind: 'removed' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'failed', error: `${code ?? 'error'}: ${(error as Error).message}` };
  }
}

/** True when `file` (resolved) lies strictly below `root` (resolved): HSI only deletes inside its own folders. */
export function isInside(root: string, file: string): boolean {
  const relative = path.relative(path.resolve(root), path.resolve(file));
  return relative !== '' && !relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative);
}

/**
 * Removes a detection's thumbnail when it lies under `<dataDir>/thumbnails` (a path elsewhere is left alone and
 * reported as `missing`: HSI did not write it there).
 */
export function removeThumbnail(dataDir: string, thumbnailPath: string | null): Promise<RemoveOutcome> {
  if (thumbnailPath === null || !isInside(path.join(dataDir, 'thumbnails'), thumbnailPath)) {
    return Promise.resolve({ kind: 'missing' });
  }
  return removeFile(thumbnailPath);
}
