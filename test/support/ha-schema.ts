/**
 * What Home Assistant's MQTT integration requires of a discovery component, from its platform docs: the required
 * options per platform, the device and state classes it accepts. Shared by the discovery unit test and the
 * end-to-end Home Assistant tests, which check every retained message against it.
 */

/** Required options per platform (`required: true`); an inner list means "one of these". */
export const REQUIRED_OPTIONS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  alarm_control_panel: [['state_topic'], ['command_topic']],
  binary_sensor: [['state_topic']],
  button: [['command_topic']],
  event: [['state_topic'], ['event_types']],
  // `image_topic` and `url_topic` are exclusive; one of them is required.
  image: [['image_topic', 'url_topic']],
  sensor: [['state_topic']],
  switch: [['command_topic']],
};

/** Device classes Home Assistant accepts, per platform (the subset HSI may use is checked against these lists). */
export const DEVICE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  binary_sensor: ['connectivity', 'motion', 'occupancy', 'presence', 'problem', 'running', 'safety', 'tamper'],
  sensor: ['duration', 'enum', 'timestamp', 'data_size', 'temperature', 'power'],
  event: ['button', 'doorbell', 'motion'],
};
export const STATE_CLASSES = ['measurement', 'total', 'total_increasing'];
export const DURATION_UNITS = ['d', 'h', 'min', 's', 'ms'];
/** Units Home Assistant accepts for the unit-bound sensor device classes HSI uses. */
export const DEVICE_CLASS_UNITS: Readonly<Record<string, readonly string[]>> = {
  duration: DURATION_UNITS,
  data_size: ['bit', 'kbit', 'Mbit', 'Gbit', 'B', 'kB', 'MB', 'GB', 'TB', 'KiB', 'MiB', 'GiB', 'TiB'],
  temperature: ['°C', '°F', 'K'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW', 'BTU/h'],
};
export const ENTITY_CATEGORIES = ['config', 'diagnostic'];

/**
 * Why Home Assistant would refuse or misread the component `key` (empty when it is fine): a missing platform,
 * unique id or required option, an unknown device/state class or entity category, an enum sensor with a unit.
 */
export function componentProblems(key: string, c: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const p = typeof c.p === 'string' ? c.p : undefined;
  if (p === undefined) return [`${key}: no platform (p)`];
  if (typeof c.unique_id !== 'string' || c.unique_id === '') problems.push(`${key}: no unique_id`);
  const required = REQUIRED_OPTIONS[p];
  if (required === undefined) return [...problems, `${key}: platform ${p} is not one HSI should use`];
  for (const alternatives of required) {
    if (!alternatives.some((option) => c[option] !== undefined)) {
      problems.push(`${key}: ${p} needs ${alternatives.join(' or ')}`);
    }
  }
  if (c.device_class !== undefined && !(DEVICE_CLASSES[p] ?? []).includes(String(c.device_class))) {
    problems.push(`${key}: device_class ${String(c.device_class)} is not valid for ${p}`);
  }
  if (c.state_class !== undefined && !STATE_CLASSES.includes(String(c.state_class))) {
    problems.push(`${key}: state_class ${String(c.state_class)} is not valid`);
  }
  if (c.device_class === 'enum' && (c.state_class !== undefined || c.unit_of_measurement !== undefined)) {
    problems.push(`${key}: an enum sensor takes no state_class or unit`);
  }
  if (c.device_class === 'enum' && (!Array.isArray(c.options) || c.options.length === 0)) {
    problems.push(`${key}: an enum sensor needs options`);
  }
  const units = DEVICE_CLASS_UNITS[String(c.device_class)];
  if (units !== undefined && !units.includes(String(c.unit_of_measurement))) {
    problems.push(`${key}: a ${String(c.device_class)} sensor needs one of the units ${units.join(' ')}`);
  }
  if (c.entity_category !== undefined && !ENTITY_CATEGORIES.includes(String(c.entity_category))) {
    problems.push(`${key}: entity_category ${String(c.entity_category)} is not valid`);
  }
  return problems;
}
