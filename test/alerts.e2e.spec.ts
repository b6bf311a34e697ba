import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { startApiProcess, startWorker, Proc, WorkerProc } from './support/processes.js';
import { SmtpReceiver, WebhookReceiver } from './support/receivers.js';
import { events } from './support/queries.js';

const SECRET = 'T0AOL/B0AOL/s3cr3tW3bh00kT0k3n';

describe('built-in notifier: one alert per incident across API replicas', () => {
  let t: TestDb;
  let hook: WebhookReceiver;
  let smtp: SmtpReceiver;
  const apis: (Proc & { url: string })[] = [];
  const workers: WorkerProc[] = [];
  const texts = () => hook.requests.map((r) => (JSON.parse(r.body) as { text: string }).text);
  const count = (re: RegExp) => texts().filter((x) => re.test(x)).length;
  const mails = (re: RegExp) => smtp.mails.filter((m) => re.test(m.data)).length;
  const worker = () => {
    const w = startWorker(t.url, { AOL_LEASE_TTL_SECONDS: '3' });
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    t = await createTestDb('alerts');
    hook = await new WebhookReceiver().start();
    smtp = await new SmtpReceiver().start();
  });
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    for (const a of apis) await a.stop('SIGKILL');
    await hook.stop();
    await smtp.stop();
    await t.db.close();
  });

  it('fires once when the worker dies, survives the sender replica dying, resolves once when the worker returns', async () => {
    const first = worker();
    await waitFor(
      async () =>
        (await t.db.query(`SELECT 1 FROM aol_workers WHERE state = 'active'`)).rowCount === 1,
      20000,
      'worker active',
    );
    const env = {
      AOL_ALERT_WEBHOOK_URL: `${hook.url}/services/${SECRET}`,
      AOL_ALERT_EMAIL: 'oncall@example.com, second@example.com',
      SMTP_URL: smtp.url,
      AOL_ALERT_INTERVAL_SECONDS: '0.1',
      // The API waits this long without an active worker before AolWorkerDown: twice the
      // workers' TTL, so a worker stalled by a loaded CI machine is no second incident.
      AOL_LEASE_TTL_SECONDS: '6',
    };
    apis.push(await startApiProcess(t.url, env), await startApiProcess(t.url, env));
    const leader = await waitFor(
      () => apis.find((a) => a.output().includes('sends alerts')),
      20000,
      'one replica leads',
    );
    expect(apis.filter((a) => a.output().includes('sends alerts'))).toHaveLength(1);
    expect(count(/AolWorkerDown/)).toBe(0);

    await first.stop('SIGKILL');
    await waitFor(() => count(/^\[FIRING\] AolWorkerDown \(critical\)/) >= 1, 20000, 'fired');
    await waitFor(
      () => count(/^\[FIRING\] AolLeaseExpired/) >= 1,
      20000,
      'lease alert fired',
    ).catch((e) => {
      throw new Error(
        `${(e as Error).message} ${JSON.stringify(texts())} ${apis[0].output().slice(-3000)}`,
      );
    });

    await waitFor(
      async () => (await events(t.db, `stream = 'alert'`)).length === 2,
      20000,
      'both fires recorded',
    );
    // The sender dies mid-incident: the other replica takes over without firing again.
    await leader.stop('SIGKILL');
    const other = apis.find((a) => a !== leader)!;
    await waitFor(() => other.output().includes('sends alerts'), 20000, 'the other replica leads');

    worker();
    await waitFor(() => count(/^\[RESOLVED\] AolWorkerDown/) >= 1, 20000, 'resolved');
    await waitFor(() => count(/^\[RESOLVED\] AolLeaseExpired/) >= 1, 20000, 'lease resolved').catch(
      (e) => {
        throw new Error(
          `${(e as Error).message} ${JSON.stringify(texts())} ${other.output().slice(-3000)}`,
        );
      },
    );
    // Rounds run every 0.1 s on the live replica: a repeat would have had many chances by now.
    const seen = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM aol_events'))
      .rows[0].n;
    await waitFor(
      async () =>
        (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM aol_events')).rows[0].n >
        seen + 5,
      20000,
      'the log moves on (ticks)',
    );

    expect(count(/^\[FIRING\] AolWorkerDown/)).toBe(1);
    expect(count(/^\[RESOLVED\] AolWorkerDown/)).toBe(1);
    expect(count(/^\[FIRING\] AolLeaseExpired/)).toBe(1);
    expect(count(/^\[RESOLVED\] AolLeaseExpired/)).toBe(1);
    expect(hook.requests.every((r) => r.path === `/services/${SECRET}`)).toBe(true);
    await waitFor(() => mails(/RESOLVED\] AolWorkerDown/) >= 1, 10000, 'resolution mailed');
    expect(mails(/Subject: \[FIRING\] AolWorkerDown/)).toBe(1);
    expect(mails(/Subject: \[RESOLVED\] AolWorkerDown/)).toBe(1);
    expect(smtp.mails[0].to.sort()).toEqual(['oncall@example.com', 'second@example.com']);

    const recorded = await events(t.db, `stream = 'alert' AND data->>'alert' = 'AolWorkerDown'`);
    expect(recorded.map((e) => e.type)).toEqual(['AlertFired', 'AlertResolved']);
    expect(recorded[0].data).toMatchObject({
      severity: 'critical',
      deliveries: { webhook: 'sent', email: 'sent' },
    });
    expect(recorded[1].data.incident_id).toBe(recorded[0].data.incident_id);
    expect(recorded[0].metadata).toMatchObject({ via: 'api' });
    // The webhook URL is a secret: not in the log, not in the processes' output.
    const all = await events(t.db);
    expect(JSON.stringify(all)).not.toContain('s3cr3t');
    for (const a of apis) expect(a.output()).not.toContain('s3cr3t');
  }, 90000);

  it('a channel that refuses is recorded as failed beside the one that delivered', async () => {
    hook.respond = () => ({ status: 503 });
    await t.db.query('UPDATE aol_control_flags SET killed = true WHERE id = 1');
    try {
      // Kill is deliberate: the worker exits and AolWorkerDown stays quiet.
      await waitFor(
        async () =>
          (await t.db.query(`SELECT 1 FROM aol_workers WHERE state = 'left'`)).rowCount! >= 1,
        20000,
        'worker left after kill',
      );
      await t.db.query(`UPDATE aol_clock SET offset_seconds = 400`); // the last tick is now 400 s old
      const fired = await waitFor(
        async () => {
          const e = await events(t.db, `stream = 'alert' AND data->>'alert' = 'AolWorkerDead'`);
          return e.length > 0 ? e : undefined;
        },
        20000,
        'AolWorkerDead recorded',
      );
      expect(fired).toHaveLength(1);
      expect(fired[0].data.deliveries).toEqual({ webhook: 'failed: HTTP 503', email: 'sent' });
      await waitFor(() => mails(/Subject: \[FIRING\] AolWorkerDead/) === 1, 10000, 'mailed');
      expect(count(/AolWorkerDown/)).toBe(2); // only the first incident's fire and resolve
    } finally {
      hook.respond = () => ({ status: 200 });
      await t.db.query(`UPDATE aol_clock SET offset_seconds = 0`);
      await t.db.query('UPDATE aol_control_flags SET killed = false WHERE id = 1');
    }
  }, 60000);
});
