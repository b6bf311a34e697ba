import { describe, expect, it } from '@jest/globals';
import {
  CONTROL_CHANGES,
  decideControl,
  evolveControl,
  initialControlState,
} from '../src/control/control.decider.js';

describe('control decider (given / when / then)', () => {
  const base = initialControlState();

  it.each([
    ['pause', { ...base }, 'ControlPaused'],
    ['resume', { ...base, paused: true }, 'ControlResumed'],
    ['kill', { ...base }, 'ControlKilled'],
    ['revive', { ...base, killed: true }, 'ControlRevived'],
    ['proof-on', { ...base }, 'ProofModeEnabled'],
    ['proof-off', { ...base, proofMode: true }, 'ProofModeDisabled'],
  ] as const)('%s changes the flag with one event', (change, state, type) => {
    const d = decideControl(change, state);
    expect(d.events.map((e) => e.type)).toEqual([type]);
    expect(d.noChange).toBeUndefined();
  });

  it.each([
    ['pause', { ...base, paused: true }, 'already paused'],
    ['resume', { ...base }, 'not paused'],
    ['kill', { ...base, killed: true }, 'already killed'],
    ['revive', { ...base }, 'not killed'],
    ['proof-on', { ...base, proofMode: true }, 'proof mode already on'],
    ['proof-off', { ...base }, 'proof mode already off'],
  ] as const)('%s that changes nothing produces no event and says so', (change, state, why) => {
    expect(decideControl(change, state)).toEqual({ events: [], noChange: why });
  });

  it('evolve applies every decided event, so deciding again is a no-op', () => {
    let state = base;
    let version = 0;
    for (const change of CONTROL_CHANGES) {
      for (const e of decideControl(change, state).events)
        state = evolveControl(state, e, ++version);
      expect(decideControl(change, state).events).toEqual([]);
    }
    expect(state).toEqual({ paused: false, killed: false, proofMode: false, version: 6 });
  });

  it('acknowledgements and proof-off requests change no flag', () => {
    const s = evolveControl(
      base,
      {
        type: 'ControlAcknowledged',
        data: { control_version: 1, worker: 'h:1', epoch: 1, delay_ms: 1 },
      },
      9,
    );
    expect(s).toBe(base);
  });
});
