/**
 * Refused logins per service since start, for `hsi_failed_logins_total{service}` on /metrics: each service that
 * checks credentials registers how to read its count when it starts (the FTP receiver, the embedded MQTT broker,
 * the alarm panel's code); the API reads them at scrape. A service not running in this process has no series.
 */

export const LOGIN_SERVICES = ['ftp', 'mqtt', 'alarm_code'] as const;
export type LoginService = (typeof LOGIN_SERVICES)[number];

export class FailedLogins {
  private readonly sources = new Map<LoginService, () => number>();

  /** `read` returns the service's refused logins since start (it only grows). */
  register(service: LoginService, read: () => number): void {
    this.sources.set(service, read);
  }

  /** The count of every registered service, now. */
  counts(): Partial<Record<LoginService, number>> {
    const counts: Partial<Record<LoginService, number>> = {};
    for (const [service, read] of this.sources) counts[service] = read();
    return counts;
  }
}
