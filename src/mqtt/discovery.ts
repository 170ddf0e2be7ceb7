import { AppError } from '../lib/errors.js';
import { type Component, cameraComponents, hubComponents, type Scope } from './discovery-components.js';
import type { HaComponentSource, HaDevice } from './ha-components.js';
import { availabilityTopic, cameraObjectId, deviceConfigTopic, discoveryNodeId, hubObjectId } from './topics.js';

/**
 * Home Assistant device-based discovery as data: one message per device on `<prefix>/device/<object_id>/config`
 * with `dev`, `o` and `cmps`. The hub device carries the alarm panel, alerts and service diagnostics; each camera
 * is its own device (via the hub). Pure: the bridge publishes what `discoveryPlan` (discovery-plan.ts) says.
 */

export interface DeviceInfo {
  identifiers: string[];
  name: string;
  manufacturer: string;
  model: string;
  sw_version: string;
  via_device?: string;
}

export interface DeviceDiscoveryPayload {
  dev: DeviceInfo;
  o: { name: string; sw_version: string; support_url: string };
  cmps: Record<string, Component>;
  qos: 1;
}

export interface DiscoveryMessage {
  topic: string;
  payload: DeviceDiscoveryPayload;
}

export interface DiscoveryInput {
  baseTopic: string;
  discoveryPrefix: string;
  /** HSI's version: device `sw_version` and origin `sw_version`. */
  version: string;
  supportUrl: string;
  /** `ftp`: the camera's folder has an FTP login (`ftp.users`), so it uploads by FTP; else files are dropped in. */
  cameras: readonly { id: string; name: string; ftp?: boolean }[];
  zones: readonly { id: string; cameraId: string; name: string }[];
  /** `homeassistant.alarm_code` is set: the panel asks for a code and HSI checks it. */
  alarmCodeRequired: boolean;
  /** Keypad HA shows for the code: `number` (REMOTE_CODE, default) or `text` (REMOTE_CODE_TEXT). */
  alarmCodeFormat?: 'number' | 'text';
  /** `homeassistant.motion_off_delay_s`: motion and person turn OFF this long after the last detection. */
  motionOffDelayS: number;
  /** The hub entities the enabled features add (GPU statistics, ...). */
  sources?: readonly HaComponentSource[];
  /** The devices of their own the enabled features add (household members), as their `devices` read them. */
  devices?: readonly HaDevice[];
}

export const MANUFACTURER = 'HSI';
const ORIGIN_NAME = 'HSI';

function checkCameraIds(cameras: DiscoveryInput['cameras']): void {
  const seen = new Set<string>();
  for (const camera of cameras) {
    if (camera.id === 'hub') {
      throw new AppError(
        'INVALID_INPUT',
        'camera id "hub" is taken by the HSI hub device in Home Assistant discovery; rename the camera folder',
        { permanent: true },
      );
    }
    if (seen.has(camera.id)) {
      throw new AppError('INVALID_INPUT', `camera id "${camera.id}" is listed twice for discovery`, {
        permanent: true,
      });
    }
    seen.add(camera.id);
  }
}

/** A source device's object id: `<node>_<key>`, characters outside `[a-zA-Z0-9_-]` as `_`. */
export const sourceDeviceObjectId = (base: string, key: string): string =>
  `${discoveryNodeId(base)}_${key.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

/**
 * The discovery messages for the hub, every camera, then the features' own devices, in that order. Zones of cameras
 * not in `cameras` are left out until their camera exists; a feature device whose object id is taken (the hub, a
 * camera, an earlier device) is left out. Throws INVALID_INPUT for a camera id `hub` or a duplicate camera id.
 */
export function discoveryMessages(input: DiscoveryInput): DiscoveryMessage[] {
  checkCameraIds(input.cameras);
  const base = input.baseTopic;
  const node = discoveryNodeId(base);
  const origin = { name: ORIGIN_NAME, sw_version: input.version, support_url: input.supportUrl };
  const serviceAvailability = [{ topic: availabilityTopic(base) }];
  const hubId = hubObjectId(base);
  const hub: Scope = { idPrefix: hubId, availability: serviceAvailability, shared: {} };
  const messages: DiscoveryMessage[] = [
    {
      topic: deviceConfigTopic(input.discoveryPrefix, hubId),
      payload: {
        dev: {
          identifiers: [hubId],
          name: base === 'hsi' ? 'HSI' : `HSI ${base}`,
          manufacturer: MANUFACTURER,
          model: 'Home Security Intelligence hub',
          sw_version: input.version,
        },
        o: origin,
        cmps: hubComponents(input, hub),
        qos: 1,
      },
    },
  ];
  for (const camera of input.cameras) {
    const objectId = cameraObjectId(base, camera.id);
    // HSI's own availability only: a camera that is quiet for hours (motion-triggered uploads) must not turn its
    // entities unavailable; its `status` connectivity sensor says whether it uploads.
    const cam: Scope = { idPrefix: `${node}_${camera.id}`, availability: serviceAvailability, shared: {} };
    messages.push({
      topic: deviceConfigTopic(input.discoveryPrefix, objectId),
      payload: {
        dev: {
          identifiers: [objectId],
          name: camera.name,
          manufacturer: MANUFACTURER,
          model: camera.ftp === true ? 'FTP camera' : 'Upload folder camera',
          sw_version: input.version,
          via_device: hubId,
        },
        o: origin,
        cmps: cameraComponents(input, cam, camera.id),
        qos: 1,
      },
    });
  }
  const taken = new Set(messages.map((m) => m.topic));
  for (const device of input.devices ?? []) {
    const objectId = sourceDeviceObjectId(base, device.key);
    const topic = deviceConfigTopic(input.discoveryPrefix, objectId);
    if (taken.has(topic)) continue;
    taken.add(topic);
    const scope: Scope = { idPrefix: objectId, availability: serviceAvailability, shared: {} };
    messages.push({
      topic,
      payload: {
        dev: {
          identifiers: [objectId],
          name: device.name,
          manufacturer: MANUFACTURER,
          model: device.model,
          sw_version: input.version,
          via_device: hubId,
        },
        o: origin,
        cmps: device.components(input, scope),
        qos: 1,
      },
    });
  }
  return messages;
}

export {
  type AvailabilityEntry,
  type Component,
  defaultEntityId,
  type Platform,
} from './discovery-components.js';
export { type DiscoveryPlan, discoveryPlan, isOwnDiscoveryPayload } from './discovery-plan.js';
