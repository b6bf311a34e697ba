import { describe, expect, it } from '@jest/globals';
import { ActionError } from '../src/actions/action-error.js';
import {
  ACTION_STATUSES,
  decideAction,
  decideAttempt,
  evolveAction,
} from '../src/actions/actions.decider.js';
import type { ActionEvent } from '../src/events/event.types.js';

const policy = { maxRetries: 3, baseSeconds: 2, maxSeconds: 60 };
const half = () => 0.5; // no jitter: 0.8 + 0.4 × 0.5 = 1

describe('actions decider: an attempt (given / when / then)', () => {
  it('given a success without artifact, when decided, then ActionSucceeded with the message', () => {
    expect(decideAttempt(7, 1, { ok: true, message: 'sent' }, policy, half)).toEqual({
      type: 'ActionSucceeded',
      data: { attempt: 1, message: 'sent' },
    });
  });

  it('given a proof-mode artifact, when decided, then the event names it by action id and hash', () => {
    const o = decideAttempt(
      7,
      2,
      {
        ok: true,
        message: 'rendered',
        artifact: { contentType: 'application/json', body: '{}', sha256: 'ab' },
      },
      policy,
      half,
    );
    expect(o).toEqual({
      type: 'ActionSucceeded',
      data: { attempt: 2, message: 'rendered', artifact_ref: '7/ab', artifact_sha256: 'ab' },
      artifact: { contentType: 'application/json', body: '{}' },
    });
  });

  it('given a permanent failure, when decided, then ActionFailed at once, whatever the attempt', () => {
    const o = decideAttempt(
      7,
      1,
      { ok: false, error: new ActionError('permanent', 'HTTP 400') },
      policy,
    );
    expect(o).toEqual({ type: 'ActionFailed', data: { attempt: 1, error: 'HTTP 400' } });
  });

  it('given a transient failure with attempts left, when decided, then a retry after base × 2^(n−1)', () => {
    const err = new ActionError('transient', 'HTTP 503', 'receiver said: busy');
    expect(decideAttempt(7, 1, { ok: false, error: err }, policy, half)).toEqual({
      type: 'ActionRetryScheduled',
      data: { attempt: 1, error: 'HTTP 503', retry_in_seconds: 2, detail: 'receiver said: busy' },
    });
    const third = decideAttempt(7, 2, { ok: false, error: err }, policy, half);
    expect(third.type === 'ActionRetryScheduled' && third.data.retry_in_seconds).toBe(4);
  });

  it('given a long backoff, when decided, then the delay is capped and jittered by at most 20 %', () => {
    const err = new ActionError('transient', 'timeout');
    const big = { maxRetries: 30, baseSeconds: 2, maxSeconds: 60 };
    const lo = decideAttempt(7, 20, { ok: false, error: err }, big, () => 0);
    const hi = decideAttempt(7, 20, { ok: false, error: err }, big, () => 1);
    expect(lo.type === 'ActionRetryScheduled' && lo.data.retry_in_seconds).toBe(48);
    expect(hi.type === 'ActionRetryScheduled' && hi.data.retry_in_seconds).toBe(72);
  });

  it('given a transient failure on the last attempt, when decided, then it is dead-lettered', () => {
    const o = decideAttempt(
      7,
      3,
      { ok: false, error: new ActionError('transient', 'HTTP 502') },
      policy,
    );
    expect(o).toEqual({
      type: 'ActionDeadLettered',
      data: { attempt: 3, error: 'HTTP 502 (attempt 3 of 3)' },
    });
  });
});

describe('actions decider: an operator command (given / when / then)', () => {
  it.each([
    ['retry', 'DLQ', 'ActionRequeued'],
    ['retry', 'FAILED', 'ActionRequeued'],
    ['retry', 'UNKNOWN', 'ActionRequeued'],
    ['cancel', 'PENDING', 'ActionCancelled'],
    ['cancel', 'RETRY', 'ActionCancelled'],
    ['cancel', 'DLQ', 'ActionCancelled'],
  ] as const)('given %s of a %s action, then %s with the previous status', (cmd, status, type) => {
    expect(decideAction(cmd, status)).toEqual({
      event: { type, data: { previous_status: status } },
    });
  });

  it.each([
    ['retry', 'PENDING'],
    ['retry', 'RUNNING'],
    ['retry', 'SUCCESS'],
    ['cancel', 'RUNNING'],
    ['cancel', 'SUCCESS'],
    ['cancel', 'CANCELLED'],
  ] as const)(
    'given %s of a %s action, then it is refused with the allowed statuses',
    (cmd, status) => {
      const d = decideAction(cmd, status);
      expect('refused' in d && d.refused).toMatch(
        new RegExp(`^is ${status}; only .* actions can be`),
      );
    },
  );
});

describe('actions decider: evolve', () => {
  it('gives every action event a status from the one list', () => {
    const types: ActionEvent['type'][] = [
      'ActionEnqueued',
      'ActionStarted',
      'ActionSucceeded',
      'ActionRetryScheduled',
      'ActionFailed',
      'ActionDeadLettered',
      'ActionOutcomeUnknown',
      'ActionCancelled',
      'ActionRequeued',
    ];
    const statuses = types.map(evolveAction);
    for (const s of statuses) expect(ACTION_STATUSES).toContain(s);
    expect(new Set(statuses)).toEqual(new Set(ACTION_STATUSES));
    expect(evolveAction('ActionRequeued')).toBe('PENDING');
  });
});
