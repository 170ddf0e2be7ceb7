import { HOUSE_MODES, type HouseMode, isHouseMode } from '../domain/arming.js';
import { AppError } from '../lib/errors.js';
import type { DbOrTx } from './database.js';
import type { HouseStateRow } from './tables/arming.table.js';

/** The house mode and who set it last; `changedAt`/`changedBy` are null while it was never set. */
export interface HouseState {
  mode: HouseMode;
  changedAt: Date | null;
  changedBy: string | null;
}

export const NEVER_ARMED: HouseState = { mode: 'disarmed', changedAt: null, changedBy: null };

export function houseStateRowToState(row: HouseStateRow): HouseState {
  return { mode: row.mode, changedAt: row.changed_at, changedBy: row.changed_by };
}

export async function getHouseState(db: DbOrTx): Promise<HouseState> {
  const row = await db.selectFrom('house_state').selectAll().where('id', '=', 1).executeTakeFirst();
  return row === undefined ? { ...NEVER_ARMED } : houseStateRowToState(row);
}

/** The current house mode: `disarmed` until someone arms it. */
export async function getHouseMode(db: DbOrTx): Promise<HouseMode> {
  return (await getHouseState(db)).mode;
}

/**
 * Sets the house mode (`actor`: `mqtt`, `api:<user>`, …) at `at`; the mode it already has leaves the row as it is.
 * An unknown mode is a permanent INVALID_INPUT error listing the valid ones. Returns the new state and the mode
 * before. Runs in `db` when it is a transaction (the caller's audit row joins it), else in its own.
 */
export async function setHouseMode(
  db: DbOrTx,
  mode: HouseMode,
  actor: string,
  at: Date,
): Promise<{ state: HouseState; previous: HouseMode }> {
  if (!isHouseMode(mode)) {
    throw new AppError('INVALID_INPUT', `house mode must be one of ${HOUSE_MODES.join(', ')}, got ${String(mode)}`, {
      permanent: true,
    });
  }
  if (!db.isTransaction) return db.transaction().execute((tx) => setHouseMode(tx, mode, actor, at));
  const before = await db.selectFrom('house_state').selectAll().where('id', '=', 1).forUpdate().executeTakeFirst();
  // The same mode again changes nothing: who set it last, and when, stay.
  if (before?.mode === mode) return { state: houseStateRowToState(before), previous: mode };
  const values = { mode, changed_at: at, changed_by: actor };
  const row = await db
    .insertInto('house_state')
    .values({ id: 1, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
  return { state: houseStateRowToState(row), previous: before?.mode ?? 'disarmed' };
}
