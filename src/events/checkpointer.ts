import type { KeyObject } from 'node:crypto';
import { Db } from '../db/db.js';
import { EventMetadata } from './event.types.js';
import type { EventNotifier } from './event-notifier.js';
import { LogJob } from './log-job.js';
import {
  Checkpoint,
  CheckpointPolicy,
  createCheckpoint,
  isMirrored,
  lastCheckpoint,
  mirrorCheckpoint,
  mirroredNames,
} from './checkpoints.js';
import { verifyHead } from '../common/signing.js';

export type CheckpointerOptions = Readonly<{
  key: KeyObject;
  policy: CheckpointPolicy;
  dir: string | undefined;
  metadata: EventMetadata;
  log: (level: 'info' | 'warn', msg: string) => void;
}>;

/**
 * Signs a checkpoint every `everyEvents` events or `everySeconds` seconds, in
 * the API and in the worker (whichever has AOL_SIGNING_KEY). NOTIFY pointers
 * only say when to look (a forged pointer costs one query); the decision is
 * taken again under the append lock (createCheckpoint), so several processes
 * never sign the same head. The timer looks at least once a minute, so the
 * time rule holds to within a minute (or everySeconds, when shorter).
 */
export class Checkpointer {
  private lastEventSeq = 0;
  private readonly job: LogJob;

  constructor(
    private readonly db: Db,
    private readonly o: CheckpointerOptions,
  ) {
    this.job = new LogJob({
      run: () => this.check(),
      due: (p) => !p || p.seq - this.lastEventSeq >= this.o.policy.everyEvents,
      everyMs: Math.min(this.o.policy.everySeconds, 60) * 1000,
      // A failed check (a database restart, a lock conflict) is tried again in
      // a second: the next NOTIFY may never come, and the timer is a minute.
      retryMs: 1000,
      onError: (err) => this.o.log('warn', `checkpoint failed: ${err.message}; retrying in 1 s`),
    });
  }

  start(notifier?: EventNotifier): void {
    this.job.start(notifier);
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Run one check now, or once more after the running one. */
  poke(): void {
    this.job.poke();
  }

  private async check(): Promise<void> {
    const made = await createCheckpoint(this.db, this.o.key, this.o.metadata, this.o.policy);
    if (made) this.o.log('info', `signed checkpoint of seq ${made.seq} (event ${made.event_seq})`);
    const last = made ?? (await lastCheckpoint(this.db));
    if (last?.event_seq) this.lastEventSeq = last.event_seq;
    if (last) this.mirror(last);
  }

  /**
   * Mirror the latest checkpoint, whoever signed it, once it verifies with our
   * key: a forged row planted in the log must not reach the directory.
   */
  private mirror(cp: Checkpoint): void {
    const dir = this.o.dir;
    if (!dir || isMirrored(mirroredNames(dir), cp)) return;
    if (!verifyHead(this.o.key, cp, cp.signature)) {
      this.o.log('warn', `not mirroring checkpoint of seq ${cp.seq}: its signature is not ours`);
      return;
    }
    try {
      mirrorCheckpoint(dir, cp);
    } catch (err) {
      this.o.log('warn', `AOL_CHECKPOINT_DIR: ${(err as Error).message}`);
    }
  }
}

/** The one entry point: a checkpointer when this process has a key, else nothing. */
export function startCheckpointer(
  db: Db,
  config: Readonly<{
    signingKey: KeyObject | undefined;
    checkpointEveryEvents: number;
    checkpointEverySeconds: number;
    checkpointDir: string | undefined;
  }>,
  metadata: EventMetadata,
  log: CheckpointerOptions['log'],
  notifier?: EventNotifier,
): Checkpointer | undefined {
  if (!config.signingKey) return undefined;
  const c = new Checkpointer(db, {
    key: config.signingKey,
    policy: {
      everyEvents: config.checkpointEveryEvents,
      everySeconds: config.checkpointEverySeconds,
    },
    dir: config.checkpointDir,
    metadata,
    log,
  });
  c.start(notifier);
  return c;
}
