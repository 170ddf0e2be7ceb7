import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * bin/hsi.mjs, the `hsi` binary: the sources through tsx in a checkout (before any build), dist/cli.js where only
 * the build ships (the npm package, the Docker image). Run in a temp package with stand-in entry points.
 */

let dir: string;

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function hsi(...args: string[]): string {
  return execFileSync(process.execPath, [path.join(dir, 'bin', 'hsi.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('the hsi launcher', () => {
  it('runs dist/cli.js without sources, the sources through tsx in a checkout, with the arguments', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-launcher-'));
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync('bin/hsi.mjs', path.join(dir, 'bin', 'hsi.mjs'));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist', 'cli.js'), "console.log('dist', process.argv.slice(2).join(' '));\n");
    expect(hsi('status', '--help')).toBe('dist status --help\n');

    // Sources but no tsx (npm ci --omit=dev): still the build.
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(
      path.join(dir, 'src', 'cli.ts'),
      "const where: string = 'src';\nconsole.log(where, process.argv.slice(2).join(' '));\n",
    );
    expect(hsi('status')).toBe('dist status\n');

    // A checkout after npm ci: the TypeScript sources, no build needed, never a stale one.
    symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'));
    expect(hsi('doctor')).toBe('src doctor\n');
    rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(hsi('doctor')).toBe('src doctor\n');
  });
});
