// Fails when src/ has an import cycle, or when src/domain (pure code) imports I/O: node built-ins (but path and
// crypto), packages other than the pure ones listed below (ajv: validation; suncalc: sun position maths), or other folders of src/ than lib/errors. Run by `npm run check`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve('src');
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.ts')) files.push(full);
  }
};
walk(root);

const IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const graph = new Map();
const problems = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const deps = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1];
    const typeOnly = /^\s*(?:import|export)\s+type\s/.test(match[0]);
    if (spec.startsWith('.')) {
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (!typeOnly) deps.push(target);
      const rel = path.relative(root, file);
      const relTarget = path.relative(root, target);
      if (
        rel.startsWith(`domain${path.sep}`) &&
        !relTarget.startsWith(`domain${path.sep}`) &&
        relTarget !== path.join('lib', 'errors.ts')
      ) {
        problems.push(`${rel} (pure domain code) imports ${relTarget}`);
      }
    } else if (
      path.relative(root, file).startsWith(`domain${path.sep}`) &&
      !typeOnly &&
      !['ajv', 'suncalc', 'node:path', 'node:crypto'].includes(spec)
    ) {
      problems.push(`${path.relative(root, file)} (pure domain code) imports ${spec}`);
    }
  }
  graph.set(file, deps);
}

const state = new Map();
const stack = [];
const visit = (file) => {
  state.set(file, 'active');
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === 'active') {
      const cycle = stack
        .slice(stack.indexOf(dep))
        .concat(dep)
        .map((f) => path.relative(root, f));
      problems.push(`import cycle: ${cycle.join(' -> ')}`);
    } else if (!state.has(dep) && graph.has(dep)) visit(dep);
  }
  stack.pop();
  state.set(file, 'done');
};
for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`import graph ok: ${files.length} files, no cycles, domain/ is pure`);
