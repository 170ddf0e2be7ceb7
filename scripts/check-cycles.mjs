// Fails when src/ has an import cycle, or when src/domain (pure code) imports I/O: node built-ins (but path and
// crypto), packages other than the pure ones listed below (ajv: validation; suncalc: sun position maths), or other folders of src/ than lib/errors. Run by `npm run check`.
//
// Also refuses what ../shared/docs/STYLE.md forbids (issue 12):
// - an adapter (mqtt/, api/) importing a stage (ingest/, detection/, aggregation/, analysis/, alerts/, enrichment/,
//   features/), except ADAPTER_MAY_IMPORT below and the PENDING_ADAPTER_IMPORTS left;
// - an adapter importing another adapter (mqtt/ <-> api/);
// - SQL outside storage/ and features/<name>/*.repository.ts: Kysely query builders (selectFrom, insertInto, updateTable, deleteFrom, mergeInto,
//   replaceInto) and the `sql` template; except the files in PENDING_SQL. A transaction is not SQL: a stage or a
//   route may hold one around repository calls (a unit of work: a change and its audit row commit together).
// Every message names the file and the rule. An allow-list entry whose file no longer breaks the rule is reported too,
// so the lists only shrink. `node scripts/check-cycles.mjs [dir]` checks `<dir>/src` (default: ./src).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.', 'src');
/** Stale allow-list entries are reported for this repository's own tree only (not a tree under test). */
const ownTree = root === path.resolve('src');

const ADAPTERS = ['mqtt', 'api'];
const STAGES = ['ingest', 'detection', 'aggregation', 'analysis', 'alerts', 'enrichment', 'features'];
/**
 * Stage files adapters may import. The API and the MQTT bridge run the owner's commands (acknowledge, dismiss, arm)
 * through the alert and arming services today; the commands move to src/commands/ (which adapters may import), then
 * these two entries go.
 */
const ADAPTER_MAY_IMPORT = new Set(['alerts/alert.service.ts', 'alerts/arming.service.ts']);
/** Adapter -> stage imports still to remove: `from -> to`, each with why it is still here. */
const PENDING_ADAPTER_IMPORTS = new Map([]);
/** Files outside storage/ that still hold SQL, each with why; they move into storage/ and leave this list. */
const PENDING_SQL = new Map([]);
const SQL_PATTERNS = [
  [/\b(?:selectFrom|insertInto|updateTable|deleteFrom|mergeInto|replaceInto)\s*\(/, 'a Kysely query builder'],
  [/\bsql\s*(?:<[^`;]*>)?\s*`/, 'the sql template'],
];
const folderOf = (rel) => rel.split(path.sep)[0];
const posix = (rel) => rel.split(path.sep).join('/');
/** The text without comments (block comments and whole-line // comments), so prose may name a query builder. */
const code = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
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
const usedPending = new Set();
/** Adapter rules for one relative import `relTarget` of `rel` (both relative to src/). */
function checkLayers(rel, relTarget) {
  const from = folderOf(rel);
  const to = folderOf(relTarget);
  if (!ADAPTERS.includes(from)) return;
  if (ADAPTERS.includes(to) && to !== from) {
    problems.push(`${posix(rel)}: adapters never import each other (${from}/ imports ${posix(relTarget)})`);
  }
  if (!STAGES.includes(to) || ADAPTER_MAY_IMPORT.has(posix(relTarget))) return;
  const key = `${posix(rel)} -> ${posix(relTarget)}`;
  if (PENDING_ADAPTER_IMPORTS.has(key)) usedPending.add(key);
  else problems.push(`${posix(rel)}: adapters never import stages (imports ${posix(relTarget)}; pass a function in)`);
}
/** SQL lives in storage/, and in a feature's own repositories (`features/<name>/*.repository.ts`, its tables). */
const sqlHome = (rel) => folderOf(rel) === 'storage' || /^features\/[^/]+\/[^/]+\.repository\.ts$/.test(posix(rel));
function checkSql(rel, text) {
  if (sqlHome(rel)) return;
  const body = code(text);
  const found = SQL_PATTERNS.filter(([pattern]) => pattern.test(body)).map(([, what]) => what);
  if (PENDING_SQL.has(posix(rel))) {
    usedPending.add(posix(rel));
    if (found.length === 0 && ownTree)
      problems.push(`${posix(rel)}: holds no SQL any more: remove it from PENDING_SQL`);
  } else if (found.length > 0) {
    problems.push(`${posix(rel)}: SQL only in storage/ (${found.join(', ')}; use a repository or storage/queries/)`);
  }
}
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  checkSql(path.relative(root, file), text);
  const deps = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1];
    const typeOnly = /^\s*(?:import|export)\s+type\s/.test(match[0]);
    if (spec.startsWith('.')) {
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (!typeOnly) deps.push(target);
      const rel = path.relative(root, file);
      const relTarget = path.relative(root, target);
      checkLayers(rel, relTarget);
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

if (ownTree) {
  for (const key of PENDING_ADAPTER_IMPORTS.keys()) {
    if (!usedPending.has(key)) problems.push(`${key}: no longer imported: remove it from PENDING_ADAPTER_IMPORTS`);
  }
  for (const rel of PENDING_SQL.keys()) {
    if (!existsSync(path.join(root, rel))) problems.push(`${rel}: gone: remove it from PENDING_SQL`);
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(
  `import graph ok: ${files.length} files, no cycles, domain/ is pure, adapters import no stage nor each other, ` +
    `SQL only in storage/ (${PENDING_SQL.size} files pending)`,
);
