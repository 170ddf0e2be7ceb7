import type { Generated, Insertable, Selectable } from 'kysely';

export interface PromptVersionTable {
  id: Generated<number>;
  version: string;
  system_prompt: string;
  created_at: Generated<Date>;
}

export type PromptVersionRow = Selectable<PromptVersionTable>;
export type NewPromptVersionRow = Insertable<PromptVersionTable>;
