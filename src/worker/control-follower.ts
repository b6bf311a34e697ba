import { ControlState, evolveControl } from '../control/control.decider.js';
import { FLAG_EVENT_TYPES } from '../events/event.types.js';
import { domainEvent, isControlEvent, StoredEvent } from '../events/event.types.js';
import type { WorkerLog } from './worker-log.js';

export type ControlFollowerDeps = Readonly<{
  /** Append ControlAcknowledged for a version, fenced by the term held (the worker knows which). */
  ack: (version: number) => Promise<void>;
  /** Whether this worker holds a live term (a standby does not acknowledge). */
  holding: () => boolean;
  log: WorkerLog;
  /** A flag changed: cut the worker's sleep short. */
  onChange: () => void;
}>;

/**
 * The worker's copy of the control flags, kept by folding the control
 * stream's events (NOTIFY, never polling) with the control decider, and the
 * acknowledgements it owes. Acknowledgements go out in order; a stopping
 * worker waits for them (settled) before its last tick and release.
 *
 * State: the flags (version only grows), whether a resume arrived since the
 * last tick started, and the queue of acknowledgements.
 */
export class ControlFollower {
  private state: ControlState = { paused: false, killed: false, proofMode: true, version: 0 };
  private resumedSinceTick = false;
  private acks: Promise<void> = Promise.resolve();

  constructor(private readonly deps: ControlFollowerDeps) {}

  get flags(): ControlState {
    return this.state;
  }

  /** A resume arrived since the last tick started: the wait for the next tick ends now. */
  get resumed(): boolean {
    return this.resumedSinceTick;
  }

  /** The flags as the read model has them (at start and at each new term). */
  load(flags: ControlState): void {
    this.state = flags;
  }

  /** A tick starts: a resume before it is covered by it. */
  tickStarted(): void {
    this.resumedSinceTick = false;
  }

  /** An event of the control stream; one the flags already include is skipped. */
  apply(e: StoredEvent): void {
    if (!isControlEvent(e) || !FLAG_EVENT_TYPES.has(e.type)) return;
    if (e.stream_version <= this.state.version) return;
    const wasPaused = this.state.paused;
    this.state = evolveControl(this.state, domainEvent(e), e.stream_version);
    if (wasPaused && !this.state.paused) this.resumedSinceTick = true;
    this.deps.onChange();
    const line = `control: ${e.type} (version ${e.stream_version}) by ${e.metadata.actor} via ${e.metadata.via}`;
    // The log line (a synchronous write to a pipe) waits for the
    // acknowledgement: it is not on the reaction's path.
    if (this.deps.holding()) this.queueAck(e.stream_version, () => this.deps.log('info', line));
    else this.deps.log('info', line);
  }

  /** Acknowledge `version` after the ones queued before it; `then` runs once it is made (or has failed). */
  queueAck(version: number, then?: () => void): void {
    this.acks = this.acks.then(() =>
      this.deps
        .ack(version)
        .catch((err) =>
          this.deps.log(
            'warn',
            `could not acknowledge control version ${version}: ${(err as Error).message}`,
          ),
        )
        .finally(then),
    );
  }

  /** Resolves when every queued acknowledgement has been made (or has failed and been logged). */
  settled(): Promise<void> {
    return this.acks;
  }
}
