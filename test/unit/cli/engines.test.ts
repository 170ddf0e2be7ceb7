import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * `engines.node` in package.json is what the README promises: every package `npm ci` installs from the lockfile
 * must run on the oldest Node it admits (else npm ci warns EBADENGINE), and on the Docker image's Node 22.
 */

const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

interface LockedPackage {
  version?: string;
  engines?: { node?: string };
  os?: string[];
}

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockedPackage> };

describe('engines.node', () => {
  it('holds for every locked package that installs on Linux, at the oldest Node admitted and on Node 22', () => {
    const oldest = semver.minVersion(pkg.engines.node)?.version ?? '';
    const versions = [oldest, '22.12.0'];
    expect(versions.every((v) => semver.satisfies(v, pkg.engines.node))).toBe(true);
    const refused = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.engines?.node !== undefined)
      .filter(([, p]) => p.os === undefined || p.os.includes('linux'))
      .flatMap(([name, p]) =>
        versions
          .filter((v) => !semver.satisfies(v, p.engines?.node ?? '*'))
          .map((v) => `${name}@${p.version} needs node ${p.engines?.node}, not ${v}`),
      );
    expect(refused).toStrictEqual([]);
  });
});
