/**
 * The event catalogue (docs/events.md is its prose twin; keep them in step).
 * One discriminated union per stream; persisted events are plain data.
 */
export type Via = 'api' | 'cli' | 'sql' | 'worker' | 'ui';
export const VIAS: readonly Via[] = ['api', 'cli', 'sql', 'worker', 'ui'];

export type EventMetadata = Readonly<{
  actor: string;
  via: Via;
  reason?: string;
  request_id?: string;
  /** Free text a CLI user gave with --actor; never the identity. */
  label?: string;
}>;

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
    >;

export type DomainEvent = ControlEvent | LeaseEvent | TickEvent | ActionEvent | LogEvent;
export type EventType = DomainEvent['type'];

/** An event as stored in aol_events (and as served by the API). */
export type StoredEvent = Readonly<{
  seq: number;
  stream: string;
  stream_version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  occurred_at: string;
  prev_hash: string;
  hash: string;
}>;

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
