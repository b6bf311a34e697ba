import { ControlEvent, assertNever } from '../events/event.types.js';

/**
 * The control stream's decider: pure functions, no I/O. `decide` says which
 * events a command produces given the current flags (none when the command
 * would change nothing); `evolve` folds an event into the flags.
 */
export type ControlState = Readonly<{
  paused: boolean;
  killed: boolean;
  proofMode: boolean;
  version: number;
}>;

export type ControlChange = 'pause' | 'resume' | 'kill' | 'revive' | 'proof-on' | 'proof-off';
export const CONTROL_CHANGES: readonly ControlChange[] = [
  'pause',
  'resume',
  'kill',
  'revive',
  'proof-on',
  'proof-off',
];

export const initialControlState = (): ControlState => ({
  paused: false,
  killed: false,
  proofMode: false,
  version: 0,
});

export type Decision = Readonly<{ events: ControlEvent[]; noChange?: string }>;

export function decideControl(change: ControlChange, state: ControlState): Decision {
  switch (change) {
    case 'pause':
      return state.paused
        ? { events: [], noChange: 'already paused' }
        : { events: [{ type: 'ControlPaused', data: {} }] };
    case 'resume':
      return state.paused
        ? { events: [{ type: 'ControlResumed', data: {} }] }
        : { events: [], noChange: 'not paused' };
    case 'kill':
      return state.killed
        ? { events: [], noChange: 'already killed' }
        : { events: [{ type: 'ControlKilled', data: {} }] };
    case 'revive':
      return state.killed
        ? { events: [{ type: 'ControlRevived', data: {} }] }
        : { events: [], noChange: 'not killed' };
    case 'proof-on':
      return state.proofMode
        ? { events: [], noChange: 'proof mode already on' }
        : { events: [{ type: 'ProofModeEnabled', data: {} }] };
    case 'proof-off':
      return state.proofMode
        ? { events: [{ type: 'ProofModeDisabled', data: {} }] }
        : { events: [], noChange: 'proof mode already off' };
    default:
      return assertNever(change);
  }
}

/** Fold a control event into the flags; `version` is the event's stream version when it changed a flag. */
export function evolveControl(
  state: ControlState,
  event: ControlEvent,
  streamVersion: number,
): ControlState {
  switch (event.type) {
    case 'ControlPaused':
      return { ...state, paused: true, version: streamVersion };
    case 'ControlResumed':
      return { ...state, paused: false, version: streamVersion };
    case 'ControlKilled':
      return { ...state, killed: true, version: streamVersion };
    case 'ControlRevived':
      return { ...state, killed: false, version: streamVersion };
    case 'ProofModeEnabled':
      return { ...state, proofMode: true, version: streamVersion };
    case 'ProofModeDisabled':
      return { ...state, proofMode: false, version: streamVersion };
    case 'ScopedPauseStarted':
    case 'ScopedPauseEnded':
      // the pauses themselves live in aol_scoped_pauses; the claim reads them in its statement
      return { ...state, version: streamVersion };
    case 'ProofModeDisableRequested':
    case 'ProofModeDisableApproved':
    case 'ProofModeDisableExpired':
    case 'ControlAcknowledged':
    case 'ProductionModeEntered':
    case 'ProductionModeCleared':
    case 'TestClockSet':
      return state;
    default:
      return assertNever(event);
  }
}
