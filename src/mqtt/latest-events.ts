/** What orders a camera's events: when the event started, then its id (ties). */
export interface EventOrderKey {
  id: number;
  cameraId: string;
  startedAt: Date;
}

/**
 * Keeps each camera's risk sensor on its newest event. Events are created in the order their analysis finishes, not
 * the order they started (the fast path, two analysis workers, a batch recovered after a restart), and the full
 * state republish after a reconnect reads the newest one from the database: without this guard the two paths could
 * leave the sensor on an older event than the database's latest.
 */
export class LatestEvents {
  private readonly newest = new Map<string, { at: number; id: number }>();

  /** True (and remembered) when `event` is at least as new as any event already shown for its camera. */
  offer(event: EventOrderKey): boolean {
    const at = event.startedAt.getTime();
    const shown = this.newest.get(event.cameraId);
    // The shown event itself, updated (its visit grew; its start may move earlier), always replaces itself.
    const older =
      shown !== undefined && shown.id !== event.id && (at < shown.at || (at === shown.at && event.id < shown.id));
    if (older) return false;
    this.newest.set(event.cameraId, { at, id: event.id });
    return true;
  }

  /** Forgets a camera (its newest event was deleted): the next offer for it wins. */
  forget(cameraId: string): void {
    this.newest.delete(cameraId);
  }
}
