import type { Generated, Insertable, Selectable } from 'kysely';

export interface EnrichmentRunTable {
  media_file_id: number;
  processor: string;
  status: 'success' | 'partial' | 'failed';
  error: string | null;
  results: Generated<number>;
  duration_ms: Generated<number>;
  created_at: Generated<Date>;
}

export type EnrichmentRunRow = Selectable<EnrichmentRunTable>;
export type NewEnrichmentRun = Insertable<EnrichmentRunTable>;
