import type { TickEvent } from '../events/event.types.js';
import { assertNever } from '../events/event.types.js';
import type { RecordedAttempt } from './action-runner.js';

/**
 * The tick stream's rules, as pure functions (docs/architecture.md, "Which
 * rules live where"): a tick folds what happened during it (evolve) and
 * decides the TickRecorded it ends with: its status and notes (decide).
 */
export type TickStatus = TickEvent['data']['status'];

export type TickState = Readonly<{
  attempted: number;
  succeeded: number;
  overran: boolean;
  notes: readonly string[];
}>;

/** Why a tick runs: on schedule, or the last one before the worker stops. */
export type TickReason = 'scheduled' | 'stopping';

/** What happens during a tick. */
export type TickStep =
  | Readonly<{ type: 'Claimed'; count: number }>
  | Readonly<{ type: 'Recorded'; result: RecordedAttempt }>
  | Readonly<{ type: 'BudgetUsedUp' }>
  | Readonly<{ type: 'Noted'; note: string }>;

export const initialTickState = (): TickState => ({
  attempted: 0,
  succeeded: 0,
  overran: false,
  notes: [],
});

export function evolveTick(s: TickState, step: TickStep): TickState {
  switch (step.type) {
    case 'Claimed':
      return { ...s, attempted: s.attempted + step.count };
    case 'Recorded':
      switch (step.result) {
        case 'success':
          return { ...s, succeeded: s.succeeded + 1 };
        case 'overran':
          return { ...s, overran: true };
        case 'failed':
        case 'fenced':
          return s;
        default:
          return assertNever(step.result);
      }
    case 'BudgetUsedUp':
      return { ...s, overran: true, notes: [...s.notes, 'tick budget used up'] };
    case 'Noted':
      return { ...s, notes: [...s.notes, step.note] };
    default:
      return assertNever(step);
  }
}

/** The flags a tick looks at between claims. */
export type TickFlags = Readonly<{
  leaseLost: boolean;
  killed: boolean;
  paused: boolean;
  stopping: boolean;
}>;

/** Whether to stop claiming, and the note that says why; null: claim on. */
export function interruption(f: TickFlags): string | null {
  if (f.leaseLost) return 'lease lost';
  if (f.killed) return 'killed mid-tick';
  if (f.paused) return 'paused mid-tick';
  if (f.stopping) return 'stop requested mid-tick';
  return null;
}

/** What the tick does next: claim up to `limit` more (with the previous batch's outcomes), or stop. */
export type NextClaim =
  | Readonly<{ type: 'claim'; limit: number }>
  /** Stop claiming; `step` says why, for the tick's notes (null: AOL_MAX_ACTIONS_PER_TICK reached). */
  | Readonly<{ type: 'stop'; step: TickStep | null }>;

/**
 * Before each statement of the tick (aol_record_and_claim): claim on, or
 * stop at AOL_MAX_ACTIONS_PER_TICK, a lost term, a kill, a pause, a stop or
 * the end of the budget. Stopping still records the outcomes in hand.
 */
export function decideNextClaim(
  s: TickState,
  limits: Readonly<{ maxActionsPerTick: number; claimBatchSize: number }>,
  f: TickFlags,
  budgetMs: number,
): NextClaim {
  if (s.attempted >= limits.maxActionsPerTick) return { type: 'stop', step: null };
  const stop = interruption(f);
  if (stop) return { type: 'stop', step: { type: 'Noted', note: stop } };
  if (budgetMs <= 0) return { type: 'stop', step: { type: 'BudgetUsedUp' } };
  return {
    type: 'claim',
    limit: Math.min(limits.claimBatchSize, limits.maxActionsPerTick - s.attempted),
  };
}

/**
 * The tick's status: a stopping tick is SUCCESS; a paused one that attempted
 * nothing PAUSED; a budget overrun or a mix of successes and failures
 * PARTIAL; attempts without a success FAIL; otherwise SUCCESS.
 */
export function tickStatus(s: TickState, why: TickReason, paused: boolean): TickStatus {
  if (why === 'stopping') return 'SUCCESS';
  if (paused && s.attempted === 0) return 'PAUSED';
  if (s.overran) return 'PARTIAL';
  if (s.attempted > 0 && s.succeeded === 0) return 'FAIL';
  if (s.attempted > 0 && s.succeeded < s.attempted) return 'PARTIAL';
  return 'SUCCESS';
}

/** What aol_record_tick takes (the database adds finished_at, worker and epoch). */
export type TickRecord = Readonly<{
  started_at: string;
  status: TickStatus;
  actions_attempted: number;
  actions_succeeded: number;
  notes: string;
}>;

export function decideTick(
  s: TickState,
  why: TickReason,
  paused: boolean,
  startedAt: string,
): TickRecord {
  const notes = s.attempted === 0 && s.notes.length === 0 ? ['no due actions'] : s.notes;
  return {
    started_at: startedAt,
    status: tickStatus(s, why, paused),
    actions_attempted: s.attempted,
    actions_succeeded: s.succeeded,
    notes: notes.join('; ') || `${s.succeeded}/${s.attempted} succeeded`,
  };
}
