import type { Generated, Insertable, Selectable } from 'kysely';
import type { HouseMode } from '../../domain/arming.js';

/** A single row (id = 1); no row means the house was never armed: disarmed. */
export interface HouseStateTable {
  id: Generated<number>;
  mode: HouseMode;
  changed_at: Generated<Date>;
  changed_by: string;
}

export type HouseStateRow = Selectable<HouseStateTable>;
export type NewHouseStateRow = Insertable<HouseStateTable>;
