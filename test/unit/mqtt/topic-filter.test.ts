import { describe, expect, it } from 'vitest';
import { publishTopicProblem, topicFilterProblem, topicMatches } from '../../../src/mqtt/topic-filter.js';

describe('topicMatches', () => {
  const cases: [string, string, boolean][] = [
    ['hsi/alarm/set', 'hsi/alarm/set', true],
    ['hsi/alarm/set', 'hsi/alarm/state', false],
    ['hsi/cameras/+/detect/set', 'hsi/cameras/porch/detect/set', true],
    ['hsi/cameras/+/detect/set', 'hsi/cameras/porch/extra/detect/set', false],
    ['hsi/cameras/+/detect/set', 'hsi/cameras//detect/set', true],
    ['hsi/+', 'hsi', false],
    ['hsi/#', 'hsi', true],
    ['hsi/#', 'hsi/a/b/c', true],
    ['hsi/#', 'other/a', false],
    ['#', 'anything/at/all', true],
    ['#', '$SYS/broker/uptime', false],
    ['+/broker/uptime', '$SYS/broker/uptime', false],
    ['$SYS/#', '$SYS/broker/uptime', true],
    ['hsi/alarm', 'hsi/alarm/set', false],
  ];
  it.each(cases)('%s against %s → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });
});

describe('publishTopicProblem', () => {
  it('accepts plain topics and names what is wrong with the others', () => {
    expect(publishTopicProblem('hsi/cameras/porch/motion')).toBeUndefined();
    expect(publishTopicProblem('')).toBe('the topic is empty');
    expect(publishTopicProblem(undefined)).toBe('the topic is empty');
    expect(publishTopicProblem('a/#/b')).toBe('wildcards (+ or #) are not allowed in a topic to publish to');
    expect(publishTopicProblem('a/+')).toBe('wildcards (+ or #) are not allowed in a topic to publish to');
    expect(publishTopicProblem('a\u0000b')).toBe('the topic contains a NUL character');
    expect(publishTopicProblem('x'.repeat(65_536))).toBe('the topic is longer than 65535 bytes');
  });
});

describe('topicFilterProblem', () => {
  it('accepts whole-level wildcards and refuses the rest', () => {
    expect(topicFilterProblem('hsi/+/set')).toBeUndefined();
    expect(topicFilterProblem('hsi/#')).toBeUndefined();
    expect(topicFilterProblem('#')).toBeUndefined();
    expect(topicFilterProblem('')).toBe('the filter is empty');
    expect(topicFilterProblem('hsi/#/set')).toBe("'#' must be a whole level and the last one");
    expect(topicFilterProblem('hsi/a#')).toBe("'#' must be a whole level and the last one");
    expect(topicFilterProblem('hsi/a+/set')).toBe("'+' must be a whole level");
  });
});
