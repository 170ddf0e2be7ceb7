#!/usr/bin/env node
// Builds web/dist when it is missing or older than the page's sources, so `npm start` (its prestart) and the page's
// tests always serve what web/ holds; a no-op (a few stat calls) when the build is current. Where the sources do not
// ship (the npm package, the Docker image) or Vite is not installed, it leaves web/dist as it is.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const built = path.join(root, 'dist', 'index.html');
const SOURCES = ['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json', 'src', 'public'];

/** The newest modification time under `entry` (a file or a folder), 0 when absent. */
function newest(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(entry)) latest = Math.max(latest, newest(path.join(entry, name)));
  return latest;
}

const sources = Math.max(...SOURCES.map((name) => newest(path.join(root, name))));
const current = existsSync(built) && statSync(built).mtimeMs >= sources;
if (current || !existsSync(path.join(root, 'src'))) process.exit(0);

let vite;
try {
  vite = await import('vite');
} catch {
  process.stderr.write(
    `hsi: the web UI in ${root} is ${existsSync(built) ? 'older than its sources' : 'not built'} and Vite is not ` +
      'installed: run `npm ci`, then `npm run build:web`\n',
  );
  process.exit(0);
}
process.stderr.write(`hsi: building the web UI (${path.relative(process.cwd(), path.join(root, 'dist')) || '.'})\n`);
await vite.build({ root, logLevel: 'warn' });
