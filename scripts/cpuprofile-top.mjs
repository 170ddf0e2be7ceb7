#!/usr/bin/env node
// Summarises a V8 .cpuprofile: self time by function and by package/file, top N. Usage: cpuprofile-top.mjs FILE [N]
import { readFileSync } from 'node:fs';

const [file, n = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fnTimes = new Map();
const fileTimes = new Map();
for (const [id, us] of self) {
  const { callFrame } = byId.get(id);
  const url = callFrame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'npm:');
  const where = url === '' ? '(native)' : url.replace(/^.*\/(src|bench|test)\//, '$1/');
  const key = `${callFrame.functionName || '(anonymous)'}  ${where}:${callFrame.lineNumber + 1}`;
  fnTimes.set(key, (fnTimes.get(key) ?? 0) + us);
  const pkg = where.startsWith('npm:')
    ? where
        .split('/')
        .slice(0, where.startsWith('npm:@') ? 2 : 1)
        .join('/')
    : where;
  fileTimes.set(pkg, (fileTimes.get(pkg) ?? 0) + us);
}
const show = (title, map) => {
  console.log(`\n${title} (total ${(total / 1000).toFixed(0)} ms)`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
    console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
show('self time by function', fnTimes);
show('self time by file / package', fileTimes);
