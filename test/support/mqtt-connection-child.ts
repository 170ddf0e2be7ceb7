/**
 * A separate process holding one MqttConnection, for last-will tests: the parent kills it with SIGKILL.
 * Env: MQTT_URL, MQTT_BASE_TOPIC. Prints `connected` (or `not connected`) once `start()` resolved, then waits.
 */
import { silentLogger } from '../../src/lib/logger.js';
import { MqttConnection } from '../../src/mqtt/client.js';

const url = process.env.MQTT_URL;
const baseTopic = process.env.MQTT_BASE_TOPIC;
if (!url || !baseTopic) {
  process.stderr.write('MQTT_URL and MQTT_BASE_TOPIC are required\n');
  process.exit(2);
}
const connection = new MqttConnection({ url, baseTopic, offlineQueueMax: 10, log: silentLogger(), keepaliveS: 2 });
await connection.start();
process.stdout.write(connection.connected ? 'connected\n' : 'not connected\n');
setInterval(() => undefined, 60_000);
