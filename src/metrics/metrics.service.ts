import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { Subscription } from 'rxjs';
import { Db } from '../db/db.js';
import { EventStore } from '../events/event-store.js';
import { EventNotifier } from '../events/event-notifier.js';
import { StoredEvent } from '../events/event.types.js';
import { subscribeEvents } from '../events/subscribe.js';
import { liveHealthInputs } from '../health/health.service.js';
import { sseStats } from '../events/sse-relay.js';
import { evaluateHealth } from '../health/health.model.js';
import { healthEnv } from '../health/health.service.js';
import type { Config } from '../config/config.js';
import { CONFIG } from '../common/tokens.js';
import { VerifyMonitor } from '../events/verify-monitor.js';
import { levelGauges } from './levels.js';

const OUTCOMES: Record<string, string> = {
  ActionSucceeded: 'success',
  ActionRetryScheduled: 'retry',
  ActionFailed: 'failed',
  ActionDeadLettered: 'dlq',
  ActionOutcomeUnknown: 'unknown',
  ActionCancelled: 'cancelled',
  ActionRequeued: 'requeued',
};

/**
 * Prometheus metrics. Rates and latencies come from the event log itself: the
 * API follows it live (one subscription) and observes each TickRecorded,
 * action outcome and ControlAcknowledged, so the figures are the worker's own
 * even though the worker serves no HTTP. Levels (queue depth, lease, last tick
 * age, lag) are read from the read models at scrape time.
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private sub: Subscription | undefined;
  private lastSeen = 0;

  private readonly tickDuration = new Histogram({
    name: 'aol_tick_duration_seconds',
    help: 'Tick duration (TickRecorded finished_at − started_at)',
    labelNames: ['status'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 60],
    registers: [this.registry],
  });
  private readonly actions = new Counter({
    name: 'aol_actions_total',
    help: 'Action attempt outcomes and operator transitions, by outcome',
    labelNames: ['outcome', 'action_type'],
    registers: [this.registry],
  });
  private readonly ackDelay = new Histogram({
    name: 'aol_control_ack_delay_seconds',
    help: 'Control change committed → worker acknowledged (database time)',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  private readonly notifyToApply = new Histogram({
    name: 'aol_notify_to_apply_seconds',
    help: 'Event committed → observed by this API process through NOTIFY and re-read (re-reads wait for the burst, at most 100 ms)',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  private readonly append = new Histogram({
    name: 'aol_event_append_seconds',
    help: 'Duration of event appends made by this process',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  constructor(
    private readonly db: Db,
    private readonly store: EventStore,
    private readonly notifier: EventNotifier,
    @Inject(CONFIG) config: Config,
    private readonly verify: VerifyMonitor,
  ) {
    // The client's standard names (process_*, nodejs_*), so stock dashboards and rules apply.
    collectDefaultMetrics({ register: this.registry });
    // prom-client adds *_total twins of its nodejs_active_{handles,requests,resources}
    // gauges; Prometheus reserves _total for counters (promtool check metrics
    // refuses them), so only the twins without the suffix stay.
    for (const n of ['handles', 'requests', 'resources'])
      this.registry.removeSingleMetric(`nodejs_active_${n}_total`);
    const gauges = levelGauges(verify.enabled);
    this.registerSseMetrics();
    const levels = async () => {
      try {
        const inputs = await liveHealthInputs(db);
        const h = evaluateHealth(inputs, healthEnv(config));
        gauges.set(inputs, h, Math.max(0, h.last_event_seq - this.lastSeen), verify.last);
        gauges.production.set(config.production ? 1 : 0);
        gauges.ok.set(1);
      } catch {
        gauges.ok.set(0);
      }
    };
    // The registry collects metrics concurrently: every level gauge awaits the same single read per scrape.
    let inflight: Promise<void> | undefined;
    const collect = () => (inflight ??= levels().finally(() => (inflight = undefined)));
    for (const g of gauges.all) {
      (g as unknown as { collect: () => Promise<void> }).collect = collect;
      this.registry.registerMetric(g);
    }
  }

  /** SSE relay figures (events/sse-relay.ts), copied from its process-wide counters at scrape time. */
  private registerSseMetrics(): void {
    new Gauge({
      name: 'aol_sse_connections',
      help: 'Server-Sent Events streams open on this API process',
      registers: [this.registry],
      collect() {
        this.set(sseStats.open);
      },
    });
    new Counter({
      name: 'aol_sse_clients_dropped_total',
      help: 'SSE clients dropped because they stayed blocked (not reading) past AOL_SSE_STALL_TIMEOUT_SECONDS',
      labelNames: ['reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ reason: 'stalled' }, sseStats.dropped.stalled);
      },
    });
    new Counter({
      name: 'aol_sse_refused_total',
      help: 'SSE connections refused at a cap (total: AOL_SSE_MAX_CONNECTIONS, per_token: AOL_SSE_MAX_CONNECTIONS_PER_TOKEN)',
      labelNames: ['cap'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ cap: 'total' }, sseStats.refused.total);
        this.inc({ cap: 'per_token' }, sseStats.refused.per_token);
      },
    });
  }

  async onModuleInit(): Promise<void> {
    EventStore.onAppend = (seconds) => this.append.observe(seconds);
    this.verify.start();
    this.lastSeen = await this.store.headSeq().catch(() => 0);
    // Off the control path: woken per burst and after the worker's
    // acknowledgement of a control change (followed$), one re-read per batch
    // of pointers (coalesceMs 0), never two in flight (docs/benchmarks.md, reaction).
    this.sub = subscribeEvents(this.store, { wakeups$: this.notifier.followed$ }, this.lastSeen, {
      coalesceMs: 0,
    }).subscribe((e) => this.observe(e));
  }

  async onModuleDestroy(): Promise<void> {
    this.sub?.unsubscribe();
    await this.verify.stop();
    EventStore.onAppend = undefined;
  }

  private observe(e: StoredEvent): void {
    this.lastSeen = e.seq;
    this.notifyToApply.observe(
      Math.max(0, (Date.now() - new Date(e.occurred_at).getTime()) / 1000),
    );
    if (e.type === 'TickRecorded') {
      const d = e.data;
      const secs = (new Date(d.finished_at).getTime() - new Date(d.started_at).getTime()) / 1000;
      this.tickDuration.observe({ status: d.status }, Math.max(0, secs));
    } else if (e.type === 'ControlAcknowledged') {
      this.ackDelay.observe(e.data.delay_ms / 1000);
    } else if (OUTCOMES[e.type]) {
      this.actions.inc({ outcome: OUTCOMES[e.type], action_type: 'any' });
    }
  }
}
