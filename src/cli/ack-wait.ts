import pg from 'pg';

/** The events channel (events/event-notifier.ts, EVENTS_CHANNEL; not imported: that module loads pg-listen). */
const CHANNEL = 'aol_events';

export type Ack = Readonly<{
  control_version: number;
  worker: string;
  delay_ms: number;
  at: string;
}>;

/** What waiting for the worker's acknowledgement came to. */
export type AckOutcome =
  | Readonly<{ kind: 'acknowledged'; ack: Ack }>
  | Readonly<{ kind: 'no-worker' }>
  | Readonly<{ kind: 'timeout'; worker: string; seconds: number }>;

/**
 * Waits for the active worker's ControlAcknowledged of a control version, so
 * `aol pause|resume|kill|revive` can report that the change took effect, and
 * so the CLI process (and its PostgreSQL backends) exit after the worker has
 * reacted instead of at the same moment (docs/benchmarks.md, reaction).
 *
 * `open()` LISTENs on its own connection BEFORE the change commits (an
 * acknowledgement can't be missed) and notes whether a worker holds an
 * unexpired lease; without one there is nothing to wait for. After the
 * commit `wait()` sleeps until a ControlAcknowledged NOTIFY, reads that event
 * from the log (the payload is only a pointer) and resolves once its
 * control_version covers ours, or after the timeout. It only reads.
 */
export class AckWaiter {
  private readonly client: pg.Client;
  private worker: string | null = null;
  private onPointer: ((seq: number) => void) | undefined;
  /** Pointers that arrived before wait(): a fast worker can acknowledge before the CLI gets there. */
  private early: number[] = [];

  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url, application_name: 'aol-cli' });
    // A connection lost while waiting ends the wait (timeout path); it must not crash the CLI.
    this.client.on('error', () => undefined);
    this.client.on('notification', (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      try {
        const p = JSON.parse(n.payload) as { type?: string; stream?: string; seq?: number };
        if (
          p.type === 'ControlAcknowledged' &&
          p.stream === 'control' &&
          Number.isSafeInteger(p.seq)
        )
          if (this.onPointer) this.onPointer(p.seq!);
          else this.early.push(p.seq!);
      } catch {
        // not ours: NOTIFY payloads are hints anyone can send
      }
    });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query(`LISTEN ${CHANNEL}`);
    const { rows } = await this.client.query<{ owner: string }>(
      'SELECT owner FROM aol_lease WHERE expires_at_utc > clock_timestamp()',
    );
    this.worker = rows[0]?.owner ?? null;
  }

  /** After the commit of `version`: its acknowledgement, no worker to make one, or a timeout. */
  wait(version: number, timeoutMs: number): Promise<AckOutcome> {
    const worker = this.worker;
    if (worker === null) return Promise.resolve({ kind: 'no-worker' });
    return new Promise<AckOutcome>((resolve) => {
      let done = false;
      const finish = (o: AckOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.onPointer = undefined;
        resolve(o);
      };
      const timer = setTimeout(
        () => finish({ kind: 'timeout', worker, seconds: timeoutMs / 1000 }),
        timeoutMs,
      );
      this.onPointer = (seq) => {
        this.client
          .query<{ control_version: number; worker: string; delay_ms: number; at: Date }>(
            `SELECT (data->>'control_version')::int AS control_version, data->>'worker' AS worker,
                    (data->>'delay_ms')::float8 AS delay_ms, occurred_at AS at
               FROM aol_events WHERE seq = $1 AND stream = 'control' AND type = 'ControlAcknowledged'`,
            [seq],
          )
          .then(({ rows }) => {
            const a = rows[0];
            if (a && a.control_version >= version)
              finish({ kind: 'acknowledged', ack: { ...a, at: a.at.toISOString() } });
          })
          .catch(() => undefined); // the timeout ends it
      };
      for (const seq of this.early.splice(0)) this.onPointer(seq);
    });
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
