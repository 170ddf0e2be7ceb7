import type { DbOrTx } from './database.js';
import type { PromptVersionRow } from './tables/prompt-version.table.js';

/** A system prompt as it was used, under the version name that events and audits record. */
export interface PromptVersion {
  id: number;
  version: string;
  systemPrompt: string;
  createdAt: Date;
}

export function promptVersionRowToPromptVersion(row: PromptVersionRow): PromptVersion {
  return { id: row.id, version: row.version, systemPrompt: row.system_prompt, createdAt: row.created_at };
}

export interface EnsuredPromptVersion {
  promptVersion: PromptVersion;
  created: boolean;
  /**
   * False when the version was already stored with a different system prompt: the prompt was edited without
   * bumping its version, so events under this version were scored by different texts. The stored text is kept
   * (the first one wins); the caller should warn and ask for a new version name.
   */
  matches: boolean;
}

/** Records the prompt the analysis worker runs with, once per version (safe from several processes at once). */
export async function ensurePromptVersion(
  db: DbOrTx,
  version: string,
  systemPrompt: string,
): Promise<EnsuredPromptVersion> {
  const inserted = await db
    .insertInto('prompt_versions')
    .values({ version, system_prompt: systemPrompt })
    .onConflict((oc) => oc.column('version').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted !== undefined) {
    return { promptVersion: promptVersionRowToPromptVersion(inserted), created: true, matches: true };
  }
  const existing = await db
    .selectFrom('prompt_versions')
    .selectAll()
    .where('version', '=', version)
    .executeTakeFirstOrThrow();
  return {
    promptVersion: promptVersionRowToPromptVersion(existing),
    created: false,
    matches: existing.system_prompt === systemPrompt,
  };
}

export async function getPromptVersion(db: DbOrTx, version: string): Promise<PromptVersion | undefined> {
  const row = await db.selectFrom('prompt_versions').selectAll().where('version', '=', version).executeTakeFirst();
  return row === undefined ? undefined : promptVersionRowToPromptVersion(row);
}

/** Every stored version, newest first. */
export async function listPromptVersions(db: DbOrTx): Promise<PromptVersion[]> {
  const rows = await db
    .selectFrom('prompt_versions')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(promptVersionRowToPromptVersion);
}
