import { describe, expect, it } from '@jest/globals';
import {
  decideNextClaim,
  decideTick,
  evolveTick,
  initialTickState,
  interruption,
  TickState,
  TickStep,
  tickStatus,
} from '../src/worker/tick.decider.js';

const fold = (steps: TickStep[]): TickState => steps.reduce(evolveTick, initialTickState());
const ran = (...results: ('success' | 'failed' | 'overran' | 'fenced')[]): TickStep[] => [
  { type: 'Claimed', count: results.length },
  ...results.map((result): TickStep => ({ type: 'Recorded', result })),
];

describe('tick decider: status (given / when / then)', () => {
  it.each([
    ['nothing due', [], 'scheduled', false, 'SUCCESS'],
    ['all succeeded', ran('success', 'success'), 'scheduled', false, 'SUCCESS'],
    ['some failed', ran('success', 'failed'), 'scheduled', false, 'PARTIAL'],
    ['all failed', ran('failed', 'failed'), 'scheduled', false, 'FAIL'],
    ['one overran, none succeeded', ran('overran'), 'scheduled', false, 'PARTIAL'],
    [
      'the budget was used up',
      [...ran('success'), { type: 'BudgetUsedUp' }],
      'scheduled',
      false,
      'PARTIAL',
    ],
    ['paused, nothing attempted', [{ type: 'Noted', note: 'paused' }], 'scheduled', true, 'PAUSED'],
    ['paused mid-tick after a success', ran('success'), 'scheduled', true, 'SUCCESS'],
    ['paused mid-tick after a failure', ran('failed'), 'scheduled', true, 'FAIL'],
    ['stopping, whatever happened', ran('failed'), 'stopping', false, 'SUCCESS'],
  ] as [string, TickStep[], 'scheduled' | 'stopping', boolean, string][])(
    'given %s, then the tick is %s',
    (_name, steps, why, paused, status) => {
      expect(tickStatus(fold(steps), why, paused)).toBe(status);
    },
  );
});

describe('tick decider: interruption between claims', () => {
  const none = { leaseLost: false, killed: false, paused: false, stopping: false };
  it('given nothing, then claim on', () => expect(interruption(none)).toBeNull());
  it('given several reasons, then the strongest is noted: lease, kill, pause, stop', () => {
    expect(interruption({ ...none, leaseLost: true, killed: true })).toBe('lease lost');
    expect(interruption({ ...none, killed: true, paused: true })).toBe('killed mid-tick');
    expect(interruption({ ...none, paused: true, stopping: true })).toBe('paused mid-tick');
    expect(interruption({ ...none, stopping: true })).toBe('stop requested mid-tick');
  });
});

describe('tick decider: the next claim (with the outcomes in hand)', () => {
  const none = { leaseLost: false, killed: false, paused: false, stopping: false };
  const limits = { maxActionsPerTick: 5, claimBatchSize: 2 };
  it('given room in the tick and budget, then claim a batch, never beyond the tick', () => {
    expect(decideNextClaim(initialTickState(), limits, none, 1000)).toEqual({
      type: 'claim',
      limit: 2,
    });
    expect(
      decideNextClaim(fold(ran('success', 'success', 'success', 'success')), limits, none, 1000),
    ).toEqual({
      type: 'claim',
      limit: 1,
    });
  });
  it('given AOL_MAX_ACTIONS_PER_TICK reached, then stop without a note, even if paused', () => {
    const full = fold(ran('success', 'success', 'success', 'success', 'success'));
    expect(decideNextClaim(full, limits, { ...none, paused: true }, 1000)).toEqual({
      type: 'stop',
      step: null,
    });
  });
  it('given a lost term, a kill, a pause or a stop, then stop with its note', () => {
    expect(
      decideNextClaim(initialTickState(), limits, { ...none, leaseLost: true, paused: true }, 1000),
    ).toEqual({
      type: 'stop',
      step: { type: 'Noted', note: 'lease lost' },
    });
    expect(decideNextClaim(initialTickState(), limits, { ...none, paused: true }, 1000)).toEqual({
      type: 'stop',
      step: { type: 'Noted', note: 'paused mid-tick' },
    });
  });
  it('given the budget used up, then stop: BudgetUsedUp', () => {
    expect(decideNextClaim(initialTickState(), limits, none, 0)).toEqual({
      type: 'stop',
      step: { type: 'BudgetUsedUp' },
    });
  });
});

describe('tick decider: the record', () => {
  it('given no attempts and no notes, when decided, then "no due actions"', () => {
    expect(decideTick(initialTickState(), 'scheduled', false, 't0')).toEqual({
      started_at: 't0',
      status: 'SUCCESS',
      actions_attempted: 0,
      actions_succeeded: 0,
      notes: 'no due actions',
    });
  });

  it('given attempts and no notes, when decided, then "n/m succeeded"', () => {
    const r = decideTick(fold(ran('success', 'failed', 'fenced')), 'scheduled', false, 't0');
    expect(r).toMatchObject({ actions_attempted: 3, actions_succeeded: 1, notes: '1/3 succeeded' });
  });

  it('given notes, when decided, then they are joined in order', () => {
    const s = fold([
      ...ran('success'),
      { type: 'Noted', note: 'paused mid-tick' },
      { type: 'BudgetUsedUp' },
    ]);
    expect(decideTick(s, 'scheduled', true, 't0').notes).toBe(
      'paused mid-tick; tick budget used up',
    );
  });
});
