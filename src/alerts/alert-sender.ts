import pg from 'pg';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { EventStore } from '../events/event-store.js';
import type { EventNotifier } from '../events/event-notifier.js';
import type { AlertEvent } from '../events/event.types.js';
import type { VerifyMonitor } from '../events/verify-monitor.js';
import { evaluateHealth } from '../health/health.model.js';
import { healthEnv, liveHealthInputs } from '../health/health.service.js';
import { AlertName, Condition, firingAlerts, transitions } from './alerts.model.js';
import { recordedAlerts, tryLeadership } from './alerts.sql.js';
import { deliver, Message } from './channels.js';

type Log = (level: 'info' | 'warn', msg: string) => void;
const DLQ_WINDOW_MS = 15 * 60_000;

/**
 * The built-in notifier, for deployments without Prometheus. Every API
 * replica runs one; exactly one sends: the holder of the session advisory lock
 * 7310014, taken on this sender's own connection, so a replica that dies or
 * loses the database frees it and another takes over within one interval.
 * The leader evaluates the alerts (alerts.model.ts) every
 * AOL_ALERT_INTERVAL_SECONDS, compares them with the `alert` stream (each
 * alert's last AlertFired/AlertResolved) and, for each change, sends it, then
 * records it on that same connection at the stream version it read. So an
 * incident fires once and resolves once however many replicas run, and a new
 * leader picks up where the last one's record ends. A crash between sending
 * and recording repeats that one notification (at least once: a duplicate
 * page beats a lost one). A send that reaches no channel is not recorded and
 * is tried again next round.
 */
export class AlertSender {
  private readonly id = `${hostname()}:${process.pid}`;
  private client: pg.Client | undefined;
  private leader = false;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private readonly since = new Map<AlertName, number>();
  private dlq: { at: number; n: number }[] = [];
  /** Sent but not yet recorded (the append failed): recorded next round, never sent again. */
  private unrecorded: AlertEvent[] = [];

  constructor(
    private readonly config: Config,
    private readonly notifier: EventNotifier,
    private readonly verify: VerifyMonitor,
    private readonly log: Log,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    const next = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.round = this.tick().finally(next);
      }, this.config.alertIntervalSeconds * 1000);
    };
    next();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round?.catch(() => undefined);
    await this.client?.end().catch(() => undefined);
  }

  private async tick(): Promise<void> {
    try {
      const c = await this.connection();
      if (!this.leader) {
        this.leader = await tryLeadership(c);
        if (!this.leader) return;
        this.log('info', `alert sender: this process (${this.id}) sends alerts`);
      }
      await this.evaluate(c);
    } catch (err) {
      this.log('warn', `alert sender: ${(err as Error).message}; retrying`);
      this.drop();
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const c = new pg.Client({
      connectionString: this.config.databaseUrl,
      application_name: 'aol-alerts',
    });
    c.on('error', () => this.drop());
    await c.connect();
    this.client = c;
    return c;
  }

  /** Connection lost: so is the lock; follow until it is won again. */
  private drop(): void {
    const c = this.client;
    this.client = undefined;
    this.leader = false;
    void c?.end().catch(() => undefined);
  }

  private async evaluate(c: pg.Client): Promise<void> {
    const inputs = await liveHealthInputs(c);
    const health = evaluateHealth(inputs, healthEnv(this.config));
    const now = inputs.now.getTime();
    this.dlq = [
      ...this.dlq.filter((s) => s.at > now - DLQ_WINDOW_MS),
      { at: now, n: health.queue_counts.dlq },
    ];
    const firing = firingAlerts(
      {
        inputs,
        health,
        dlqGrowth: health.queue_counts.dlq - Math.min(...this.dlq.map((s) => s.n)),
        verifyOk: this.verify.last?.ok,
        lagEvents: Math.max(0, health.last_event_seq - this.notifier.lastSeq),
        leaseTtlSeconds: this.config.leaseTtlSeconds,
      },
      this.since,
      now,
    );
    let { alerts, version } = await recordedAlerts(c);
    if (this.unrecorded.length > 0) {
      // At any version: what matters is that what was sent is on record.
      for (const e of this.unrecorded) await this.record(c, undefined, e);
      this.unrecorded = [];
      ({ alerts, version } = await recordedAlerts(c));
    }
    const { fire, resolve } = transitions(firing, alerts);
    let v = version;
    for (const a of fire) {
      const incident = randomUUID();
      v = await this.send(c, v, text('FIRING', a), (deliveries) => ({
        type: 'AlertFired',
        data: {
          alert: a.name,
          severity: a.severity,
          summary: a.summary,
          incident_id: incident,
          deliveries,
        },
      }));
    }
    for (const name of resolve) {
      const incident = alerts.get(name)!.incident_id;
      const summary = `${name} resolved`;
      v = await this.send(
        c,
        v,
        { subject: `[RESOLVED] ${name}`, text: `[RESOLVED] ${summary}` },
        (deliveries) => ({
          type: 'AlertResolved',
          data: { alert: name, incident_id: incident, summary, deliveries },
        }),
      );
    }
  }

  /** Send, then record at the version read (a ConcurrencyError means another sender recorded first). */
  private async send(
    c: pg.Client,
    version: number,
    m: Message,
    event: (d: Record<string, string>) => AlertEvent,
  ): Promise<number> {
    const deliveries = await deliver(this.config, m);
    if (!Object.values(deliveries).includes('sent')) {
      this.log(
        'warn',
        `alert sender: "${m.subject}" reached no channel (${JSON.stringify(deliveries)}); retrying next round`,
      );
      return version;
    }
    const e = event(deliveries);
    this.log('info', `alert sender: sent ${m.subject}`);
    try {
      return await this.record(c, version, e);
    } catch (err) {
      this.unrecorded.push(e);
      throw err;
    }
  }

  private async record(
    c: pg.Client,
    version: number | undefined,
    event: AlertEvent,
  ): Promise<number> {
    const [e] = await EventStore.append(c, [
      {
        stream: 'alert',
        event,
        metadata: { actor: this.id, via: 'api' },
        expectedVersion: version,
      },
    ]);
    return e.stream_version;
  }
}

function text(state: 'FIRING', a: Condition): Message {
  const subject = `[${state}] ${a.name} (${a.severity})`;
  return { subject, text: `${subject}: ${a.summary}` };
}
