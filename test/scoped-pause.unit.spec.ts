import { describe, expect, it } from '@jest/globals';
import { decideScopedPause, parseDuration } from '../src/control/scoped-pause.js';
import { ACTION_TYPES } from '../src/actions/action-registry.js';

const now = new Date('2026-01-01T12:00:00Z');

describe('scoped pause: the duration a CLI user types (given / when / then)', () => {
  it.each([
    ['30m', 1800],
    ['2h', 7200],
    ['90s', 90],
    ['1d', 86400],
    ['1h30m', 5400],
    [' 45m ', 2700],
  ])('given %j, then %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0m', '30', 'm', '1x', '30m1h', '-5m', '1.5h'])(
    'given %j, then malformed',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('scoped pause: the decision (given / when / then)', () => {
  const type = ACTION_TYPES[0];

  it('given action types and a duration, then ScopedPauseStarted until now + duration', () => {
    expect(decideScopedPause({ actionTypes: [type, type], forSeconds: 60 }, now, 'p1')).toEqual({
      event: {
        type: 'ScopedPauseStarted',
        data: { pause_id: 'p1', action_types: [type], until: '2026-01-01T12:01:00.000Z' },
      },
    });
  });

  it('given no types and no deadline, then a pause of every type without end', () => {
    expect(decideScopedPause({}, now, 'p1')).toEqual({
      event: {
        type: 'ScopedPauseStarted',
        data: { pause_id: 'p1', action_types: null, until: null },
      },
    });
  });

  it.each([
    ['an unknown type', { actionTypes: ['NOPE_X'] }, /NOPE_X is not an action type/],
    ['an empty type list', { actionTypes: [] }, /at least one action type/],
    ['both until and a duration', { until: new Date('2026-01-02'), forSeconds: 60 }, /not both/],
    ['a zero duration', { forSeconds: 0 }, /must be positive/],
    ['a deadline in the past', { until: new Date('2026-01-01T11:59:59Z') }, /in the future/],
    [
      'a deadline of now',
      { until: now },
      /in the future \(database time is 2026-01-01T12:00:00.000Z\)/,
    ],
  ] as const)('given %s, then refused with a message', (_n, req, msg) => {
    const d = decideScopedPause(req, now, 'p1');
    expect('errors' in d && d.errors.join('; ')).toMatch(msg);
  });
});
