import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve('scripts/check-cycles.mjs');

/** A throw-away `src/` tree: file path (relative to src/) -> content. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hsi-check-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, 'src', rel)), { recursive: true });
    writeFileSync(path.join(dir, 'src', rel), text);
  }
  return dir;
}

function check(dir: string): { status: number | null; problems: string[] } {
  const run = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { status: run.status, problems: run.stderr.split('\n').filter((l) => l !== '') };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('scripts/check-cycles.mjs (npm run check)', () => {
  it('passes a tree that keeps SQL in storage/ and adapters off stages', () => {
    const dir = tree({
      'storage/event.repository.ts': "export const q = (db: any) => db.selectFrom('events').selectAll().execute();\n",
      'alerts/alert.service.ts': 'export class AlertService {}\n',
      'mqtt/bridge.ts':
        "import { q } from '../storage/event.repository.js';\nimport type { AlertService } from '../alerts/alert.service.js';\nexport const x = q;\n",
    });
    dirs.push(dir);
    expect(check(dir)).toStrictEqual({ status: 0, problems: [] });
  });

  it('refuses an adapter importing a stage or the other adapter, and SQL outside storage/, naming file and rule', () => {
    const dir = tree({
      'analysis/analysis.worker.ts': 'export const eventToRecord = 1;\n',
      'api/server.ts': 'export const createApi = 1;\n',
      'mqtt/bridge.ts':
        "import { eventToRecord } from '../analysis/analysis.worker.js';\nimport { createApi } from '../api/server.js';\nexport const x = [eventToRecord, createApi];\n",
      'api/routes/logs.ts':
        "// selectFrom in a comment is fine\nexport const q = (db: any) => db.deleteFrom('logs').execute();\n",
      'ops/job.ts': "import { sql } from 'kysely';\nexport const t = (db: any) => sql`SELECT 1`.execute(db);\n",
      // A unit of work around repository calls, and a feature's own repository, are allowed.
      'ops/unit-of-work.ts': 'export const t = (db: any) => db.transaction().execute(async () => 1);\n',
      'features/faces/faces.repository.ts': "export const q = (db: any) => db.selectFrom('faces').execute();\n",
      'features/faces/faces.feature.ts': "export const q = (db: any) => db.selectFrom('faces').execute();\n",
    });
    dirs.push(dir);
    const { status, problems } = check(dir);
    expect(status).toBe(1);
    expect(problems.sort()).toStrictEqual([
      'api/routes/logs.ts: SQL only in storage/ (a Kysely query builder; use a repository or storage/queries/)',
      'features/faces/faces.feature.ts: SQL only in storage/ (a Kysely query builder; use a repository or storage/queries/)',
      'mqtt/bridge.ts: adapters never import each other (mqtt/ imports api/server.ts)',
      'mqtt/bridge.ts: adapters never import stages (imports analysis/analysis.worker.ts; pass a function in)',
      'ops/job.ts: SQL only in storage/ (the sql template; use a repository or storage/queries/)',
    ]);
  });
});
