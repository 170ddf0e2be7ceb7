import { brokerUrl, HomeAssistant } from './home-assistant.js';
import { type Backends, startTestHsi, type TestHsi } from './hsi.js';
import { clearRetained } from './mqtt-watcher.js';

/** HSI in process and a real MQTT client acting as Home Assistant on its broker, ready once the alarm state came. */
export interface HaSession {
  t: TestHsi;
  ha: HomeAssistant;
  base: string;
}

export async function startHaSession(backends: Backends, env: Record<string, string> = {}): Promise<HaSession> {
  const t = await startTestHsi(backends, env);
  const base = t.config.mqtt.base_topic;
  const ha = await HomeAssistant.connect(brokerUrl(t.hsi), { base, prefix: t.config.mqtt.discovery_prefix });
  await ha.next(`${base}/alarm/state`);
  return { t, ha, base };
}

/** Closes both; on the shared Mosquitto, also clears what this HSI left retained. */
export async function stopHaSession(backends: Backends, session: HaSession | undefined): Promise<void> {
  if (session === undefined) return;
  const { t, ha, base } = session;
  await ha.close();
  const url = brokerUrl(t.hsi);
  await t.dispose();
  if (backends === 'postgres+redis') {
    await clearRetained(url, base);
    await clearRetained(url, `${t.config.mqtt.discovery_prefix}/device`);
  }
}
