/**
 * Writes docs/CONFIGURATION.md from the configuration schema. Run `npx tsx scripts/config-docs.ts` after changing
 * src/config/ (a unit test fails while the file is out of date); `--check` only reports whether it is.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDocs } from '../src/config/docs.js';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'CONFIGURATION.md');
const text = configDocs();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    current = '';
  }
  if (current !== text) {
    console.error(`${target} is out of date: run npx tsx scripts/config-docs.ts`);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
