/**
 * The event catalogue (docs/events.md is its prose twin; keep them in step).
 * One discriminated union per stream; persisted events are plain data.
 */
/** Who did it and through which door; defined beside Actor (common/actor.ts). */
export type { EventMetadata, Via } from '../common/actor.js';
import type { EventMetadata } from '../common/actor.js';

type Ev<T extends string, D> = Readonly<{ type: T; data: Readonly<D> }>;
type Empty = Record<string, never>;

export type ControlEvent =
  | Ev<'ControlPaused', Empty>
  | Ev<'ControlResumed', Empty>
  | Ev<'ControlKilled', Empty>
  | Ev<'ControlRevived', Empty>
  | Ev<'ProofModeEnabled', Empty>
  | Ev<'ProofModeDisabled', { request_id?: string; requested_by?: string }>
  | Ev<
      'ProofModeDisableRequested',
      { request_id: string; requested_by: string; expires_at: string }
    >
  | Ev<
      'ProofModeDisableApproved',
      { request_id: string; requested_by: string; approved_by: string }
    >
  | Ev<'ProofModeDisableExpired', { request_id: string; requested_by: string }>
  | Ev<'ProductionModeEntered', Empty>
  | Ev<'ProductionModeCleared', Empty>
  | Ev<'TestClockSet', { offset_seconds: number; previous_offset_seconds: number }>
  | Ev<
      'ScopedPauseStarted',
      { pause_id: string; action_types: string[] | null; until: string | null }
    >
  | Ev<'ScopedPauseEnded', { pause_id: string; expired: boolean }>
  | Ev<
      'ControlAcknowledged',
      { control_version: number; worker: string; epoch: number; delay_ms: number }
    >;

export type LeaseEvent =
  | Ev<
      'LeaseAcquired',
      { owner: string; epoch: number; acquired_at: string; expires_at: string; ttl_seconds: number }
    >
  | Ev<'LeaseRenewed', { owner: string; epoch: number; expires_at: string }>
  | Ev<'LeaseReleased', { owner: string; epoch: number }>
  | Ev<'LeaseExpired', { owner: string; epoch: number; expired_at: string; detected_by: string }>
  | Ev<'LeaseForceReleased', { owner: string; epoch: number }>
  | Ev<
      'FencedWriteRejected',
      {
        worker: string;
        epoch: number;
        current_epoch: number | null;
        action_id?: number;
        attempted: string;
      }
    >;

export type TickEvent = Ev<
  'TickRecorded',
  {
    started_at: string;
    finished_at: string;
    status: 'SUCCESS' | 'PARTIAL' | 'FAIL' | 'PAUSED';
    actions_attempted: number;
    actions_succeeded: number;
    notes: string;
    worker: string;
    epoch: number;
  }
>;

export type ActionEvent =
  | Ev<
      'ActionEnqueued',
      {
        id: number;
        idempotency_key: string;
        action_type: string;
        payload: unknown;
        not_before: string;
      }
    >
  | Ev<'ActionStarted', { attempt: number; worker: string; epoch: number; proof_mode: boolean }>
  | Ev<
      'ActionSucceeded',
      { attempt: number; message: string; artifact_ref?: string; artifact_sha256?: string }
    >
  | Ev<
      'ActionRetryScheduled',
      { attempt: number; error: string; retry_at: string; recovered?: boolean }
    >
  | Ev<'ActionFailed', { attempt: number; error: string }>
  | Ev<'ActionDeadLettered', { attempt: number; error: string }>
  | Ev<'ActionOutcomeUnknown', { attempt: number; error: string }>
  | Ev<'ActionCancelled', { previous_status: string }>
  | Ev<'ActionRequeued', { previous_status: string }>;

/** The `log` stream: facts about the log itself (docs/checkpoints.md). */
export type LogEvent =
  | Ev<
      'LogCheckpointSigned',
      { seq: number; hash: string; occurred_at: string; signature: string; key_id: string }
    >
  | Ev<
      'LogSegmentArchived',
      {
        first_seq: number;
        last_seq: number;
        count: number;
        first_prev_hash: string;
        last_hash: string;
        /** The manifest's file name in the archive directory and the SHA-256 of its bytes. */
        manifest: string;
        manifest_sha256: string;
        files: number;
        key_id: string;
      }
    >
  /** A snapshot of the replayed state at `seq` (aol_snapshots), `bytes` long, hashing to `sha256`. */
  | Ev<'SnapshotTaken', { seq: number; sha256: string; bytes: number }>;

/** Per channel: 'sent', or why it was not. */
export type AlertDeliveries = Readonly<Record<string, string>>;

/** `alert` stream: what the built-in notifier sent (src/alerts). */
export type AlertEvent =
  | Ev<
      'AlertFired',
      {
        alert: string;
        severity: 'critical' | 'warning';
        summary: string;
        incident_id: string;
        deliveries: AlertDeliveries;
      }
    >
  | Ev<
      'AlertResolved',
      { alert: string; incident_id: string; summary: string; deliveries: AlertDeliveries }
    >;

/** The `schedule` stream: recurring schedules and their firings (src/schedules/). */
export type ScheduleEvent =
  | Ev<
      'ScheduleCreated',
      {
        schedule_id: string;
        cron: string;
        time_zone: string;
        action_type: string;
        payload: unknown;
        missed_fires: 'skip' | 'catch_up';
        catch_up_max: number | null;
        handled_through: string;
        next_fire: string | null;
      }
    >
  | Ev<'SchedulePaused', { schedule_id: string }>
  | Ev<
      'ScheduleResumed',
      { schedule_id: string; handled_through: string; next_fire: string | null }
    >
  | Ev<'ScheduleDeleted', { schedule_id: string }>
  | Ev<
      'ScheduleFired',
      {
        schedule_id: string;
        fire_time: string;
        action_id: number;
        idempotency_key: string;
        next_fire: string | null;
      }
    >
  | Ev<
      'ScheduleFiresMissed',
      { schedule_id: string; count: number; first: string; last: string; next_fire: string | null }
    >;

export type DomainEvent =
  ControlEvent | LeaseEvent | TickEvent | ActionEvent | LogEvent | AlertEvent | ScheduleEvent;
export type EventType = DomainEvent['type'];

type StoredOf<E extends DomainEvent> = E extends DomainEvent
  ? Readonly<{
      seq: number;
      stream: string;
      stream_version: number;
      type: E['type'];
      data: E['data'];
      metadata: EventMetadata;
      occurred_at: string;
      prev_hash: string;
      hash: string;
    }>
  : never;

/**
 * An event as stored in aol_events (and as served by the API): one member per
 * event type, so a reader narrows by `type` (an exhaustive switch, or
 * `isEvent`) and gets that type's data without a cast.
 */
export type StoredEvent = StoredOf<DomainEvent>;
/** The stored form of one event type, e.g. `Stored<'LeaseAcquired'>`. */
export type Stored<T extends EventType> = Extract<StoredEvent, { type: T }>;

/** The domain event a stored event carries (type and data), e.g. for a decider's evolve. */
export function domainEvent<E extends StoredEvent>(
  e: E,
): Extract<DomainEvent, { type: E['type'] }> {
  return { type: e.type, data: e.data } as Extract<DomainEvent, { type: E['type'] }>;
}

/** The control events that change a flag (and so the control version): the worker acknowledges each (ControlAcknowledged). */
export const FLAG_EVENT_TYPES: ReadonlySet<string> = new Set<ControlEvent['type']>([
  'ControlPaused',
  'ControlResumed',
  'ControlKilled',
  'ControlRevived',
  'ProofModeEnabled',
  'ProofModeDisabled',
  // a scoped pause changes what the claim may take, so it is a versioned, acknowledged change too
  'ScopedPauseStarted',
  'ScopedPauseEnded',
]);

const CONTROL_TYPES: ReadonlySet<string> = new Set<ControlEvent['type']>([
  'ControlPaused',
  'ControlResumed',
  'ControlKilled',
  'ControlRevived',
  'ProofModeEnabled',
  'ProofModeDisabled',
  'ProofModeDisableRequested',
  'ProofModeDisableApproved',
  'ProofModeDisableExpired',
  'ProductionModeEntered',
  'ProductionModeCleared',
  'TestClockSet',
  'ScopedPauseStarted',
  'ScopedPauseEnded',
  'ControlAcknowledged',
]);

const LEASE_TYPES: ReadonlySet<string> = new Set<LeaseEvent['type']>([
  'LeaseAcquired',
  'LeaseRenewed',
  'LeaseReleased',
  'LeaseExpired',
  'LeaseForceReleased',
  'FencedWriteRejected',
]);

const ACTION_TYPES: ReadonlySet<string> = new Set<ActionEvent['type']>([
  'ActionEnqueued',
  'ActionStarted',
  'ActionSucceeded',
  'ActionRetryScheduled',
  'ActionFailed',
  'ActionDeadLettered',
  'ActionOutcomeUnknown',
  'ActionCancelled',
  'ActionRequeued',
]);

/** Narrow a stored event to one of the given types. */
export function isEvent<T extends EventType>(e: StoredEvent, ...types: T[]): e is Stored<T> {
  return (types as string[]).includes(e.type);
}

/** Narrow an event (stored, or a fold's lean read of one) to the lease stream's events. */
export function isLeaseEvent<E extends Readonly<{ type: string }>>(
  e: E,
): e is Extract<E, { type: LeaseEvent['type'] }> {
  return LEASE_TYPES.has(e.type);
}

/** Narrow an event (stored, or a fold's lean read of one) to the control stream's events. */
export function isControlEvent<E extends Readonly<{ type: string }>>(
  e: E,
): e is Extract<E, { type: ControlEvent['type'] }> {
  return CONTROL_TYPES.has(e.type);
}

/** Narrow an event (stored, or a fold's lean read of one) to an action stream's events. */
export function isActionEvent<E extends Readonly<{ type: string }>>(
  e: E,
): e is Extract<E, { type: ActionEvent['type'] }> {
  return ACTION_TYPES.has(e.type);
}

/** Whether a type name read from the log is an action event's. */
export function isActionType(type: string): type is ActionEvent['type'] {
  return ACTION_TYPES.has(type);
}

/** An event to append: which stream, what it says, who did it, and the stream version decided on. */
export type NewEvent = Readonly<{
  stream: string;
  event: DomainEvent;
  metadata: EventMetadata;
  /** The stream version the decision was based on; undefined appends at any version. */
  expectedVersion?: number;
}>;

export function assertNever(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
