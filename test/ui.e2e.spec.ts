import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../src/db/embedded.js';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { launchBrowser, collectErrors, describeWithBrowser } from './support/browser.js';
import { startApiProcess, startWorker, Proc, WorkerProc } from './support/processes.js';
import { WebhookReceiver } from './support/receivers.js';
import { enqueue, events } from './support/queries.js';

// Waits are generous: under a loaded machine the acknowledgement can take seconds.
jest.setTimeout(180000);

/** Enter an API token in the page's token field. */
async function useToken(page: Page, token: string): Promise<void> {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Use', exact: true }).click();
}

/** The operator UI in a real headless Chromium, against a real API and worker. */
describeWithBrowser('operator web UI (headless Chromium)', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  let port: number;
  let worker: WorkerProc;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let hook: WebhookReceiver;

  beforeAll(async () => {
    browser = await launchBrowser();
    t = await createTestDb('ui');
    // real mode, so a failing webhook really fails (and lands in the DLQ)
    await t.db.query('UPDATE aol_control_flags SET proof_mode = false WHERE id = 1');
    hook = await new WebhookReceiver().start();
    hook.respond = () => ({ status: 500 });
    port = await freePort();
    api = await startApiProcess(t.url, { PORT: String(port) });
    worker = startWorker(t.url, {
      AOL_MAX_RETRIES: '1',
      AOL_PROOF_MODE: 'false',
      AOL_TICK_INTERVAL_SECONDS: '0.5',
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    errors = collectErrors(page);
    await page.goto(api.url);
    await page.getByTestId('worker-state').waitFor({ timeout: 40000 });
  }, 180000);
  afterAll(async () => {
    await browser?.close();
    await worker?.stop('SIGKILL');
    await api?.stop();
    await hook?.stop();
    await t?.db.close();
  });

  it('shows the live worker state, lease and queue without a reload', async () => {
    await page
      .getByTestId('worker-state')
      .filter({ hasText: 'active' })
      .waitFor({ timeout: 40000 });
    await expect(page.getByTestId('lease').textContent()).resolves.toContain(worker.id());
    await expect(page.getByTestId('flag-proof').textContent()).resolves.toContain(
      'off (real actions)',
    );
    await page
      .getByTestId('who')
      .filter({ hasText: 'anonymous (admin)' })
      .waitFor({ timeout: 30000 });
  });

  it('the workers panel shows the active worker, a standby joining and its death', async () => {
    await page
      .getByTestId(`worker-${worker.id()}`)
      .filter({ hasText: 'active' })
      .waitFor({ timeout: 20000 });
    const standby = startWorker(t.url, { AOL_LEASE_TTL_SECONDS: '2' });
    try {
      await page
        .getByTestId(`worker-${standby.id()}`)
        .filter({ hasText: 'standby' })
        .waitFor({ timeout: 20000 });
      await page.getByTestId('standbys').filter({ hasText: '1 standby' }).waitFor();
    } finally {
      await standby.stop('SIGKILL');
    }
    await page
      .getByTestId(`worker-${standby.id()}`)
      .filter({ hasText: 'dead' })
      .waitFor({ timeout: 20000 });
    await page.getByTestId('standbys').filter({ hasText: '0 standby' }).waitFor();
  });

  it('pause with a reason: the flag and the acknowledgment appear without a reload', async () => {
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByRole('textbox').fill('maintenance window');
    await dialog.getByRole('button', { name: 'Pause' }).click();
    await page
      .getByTestId('flag-paused')
      .filter({ hasText: 'paused: true' })
      .waitFor({ timeout: 30000 });
    await page
      .getByTestId('ack')
      .filter({ hasText: /acknowledged by .* in [\d.]+ ms/ })
      .waitFor({ timeout: 30000 });
    const [e] = (await events(t.db, `type = 'ControlPaused'`)).slice(-1);
    expect(e.metadata).toMatchObject({ via: 'ui', reason: 'maintenance window' });
    await page
      .getByTestId('worker-state')
      .filter({ hasText: 'paused' })
      .waitFor({ timeout: 30000 });
    // the audit log streamed it in
    await page
      .getByTestId('audit-table')
      .getByText('maintenance window')
      .first()
      .waitFor({ timeout: 30000 });
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await page.locator('dialog[open]').getByRole('textbox').fill('done');
    await page.locator('dialog[open]').getByRole('button', { name: 'Resume' }).click();
    await page
      .getByTestId('flag-paused')
      .filter({ hasText: 'paused: false' })
      .waitFor({ timeout: 30000 });
  });

  it('a scoped pause appears in the control panel without a reload, and End pause ends it', async () => {
    const res = await fetch(`${api.url}/control/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'smtp outage', action_types: ['SEND_EMAIL'] }),
    });
    expect(res.status).toBe(200);
    const { pause_id } = (await res.json()) as { pause_id: string };
    const shown = page.getByTestId('scoped-pause').filter({ hasText: 'SEND_EMAIL' });
    await shown.filter({ hasText: 'until resumed' }).waitFor({ timeout: 10000 });
    await shown.getByRole('button', { name: 'End pause' }).click();
    await page.locator('dialog[open]').getByRole('textbox').fill('smtp back');
    await page.locator('dialog[open]').getByRole('button', { name: 'End scoped pause' }).click();
    await shown.waitFor({ state: 'detached', timeout: 10000 });
    const [ended] = await events(t.db, `type = 'ScopedPauseEnded'`);
    expect(ended).toMatchObject({
      data: { pause_id, expired: false },
      metadata: { via: 'ui', reason: 'smtp back' },
    });
  });

  it('the audit log shows people and decisions by default, heartbeats (idle ticks) on request; the API filter is validated', async () => {
    // an idle TickRecorded (the first tick, a heartbeat) is in the log
    const [beat] = (
      await events(
        t.db,
        `type = 'TickRecorded' AND (data->>'actions_attempted')::int = 0 AND data->>'status' = 'SUCCESS'`,
      )
    ).slice(-1);
    expect(beat).toBeDefined();
    const get = (q: string) => fetch(`${api.url}/events?${q}`);
    const only = (await (await get('heartbeats=only&limit=1000')).json()) as {
      events: { seq: number; type: string; data: { actions_attempted?: number } }[];
    };
    expect(only.events.map((e) => e.seq)).toContain(beat.seq);
    expect(
      only.events.every(
        (e) =>
          e.type === 'LeaseRenewed' ||
          (e.type === 'TickRecorded' && (e.data.actions_attempted ?? 0) === 0),
      ),
    ).toBe(true);
    const excluded = (await (await get('heartbeats=exclude&limit=1000')).json()) as {
      events: { seq: number; type: string }[];
    };
    expect(excluded.events.map((e) => e.seq)).not.toContain(beat.seq);
    expect(excluded.events.map((e) => e.type)).toContain('ControlPaused');
    const bad = await get('heartbeats=some');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain(
      'heartbeats must be include, exclude or only',
    );

    // a fresh page: the first page of the audit log, then live
    await page.reload();
    const table = page.getByTestId('audit-table');
    await table.getByText('maintenance window').first().waitFor({ timeout: 30000 });
    const beatRow = table.locator('tr').filter({
      has: page.locator('td:first-child', { hasText: new RegExp(`^${beat.seq}$`) }),
    });
    expect(await beatRow.count()).toBe(0);
    await page.getByTestId('audit-heartbeats').check();
    await beatRow.first().waitFor({ timeout: 10000 });
    await expect(beatRow.first().textContent()).resolves.toContain('TickRecorded');
    await page.getByTestId('audit-heartbeats').uncheck();
    await beatRow.first().waitFor({ state: 'detached', timeout: 10000 });
  });

  it('a schedule appears with its next fire times without a reload', async () => {
    const res = await fetch(`${api.url}/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        cron: '0 9 * * 1-5',
        time_zone: 'Europe/Berlin',
        action_type: 'NOOP',
        payload: { note: 'weekday digest' },
      }),
    });
    expect(res.status).toBe(201);
    const s = (await res.json()) as { schedule_id: string; next_fires: string[] };
    const row = page.getByTestId('schedule-row').filter({ hasText: s.schedule_id.slice(0, 8) });
    await row.waitFor({ timeout: 30000 });
    await expect(row.textContent()).resolves.toMatch(/0 9 \* \* 1-5.*Europe\/Berlin.*NOOP.*ACTIVE/);
    const shown = await row
      .getByTestId('next-fires')
      .locator('time')
      .evaluateAll((ts) => ts.map((x) => x.getAttribute('datetime')));
    expect(shown).toEqual(s.next_fires.slice(0, 3));
    // 09:00 in Berlin is 07:00 or 08:00 UTC, on weekdays
    for (const f of shown) {
      const d = new Date(f!);
      expect([7, 8]).toContain(d.getUTCHours());
      expect([0, 6]).not.toContain(d.getUTCDay());
    }
  });

  it('a reason is required: the dialog refuses an empty one and writes nothing', async () => {
    // an acknowledgment of the previous test's resume may still land: count control changes only
    const controlChanges = async () =>
      (await events(t.db, `stream = 'control' AND type <> 'ControlAcknowledged'`)).length;
    const before = await controlChanges();
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Pause' }).click();
    expect(await page.locator('dialog[open]').count()).toBe(1);
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel' }).click();
    expect(await controlChanges()).toBe(before);
    expect((await events(t.db, `type = 'ControlPaused'`)).length).toBe(1);
  });

  it('an action forced into the DLQ appears, and retry moves it', async () => {
    const id = await enqueue(t.db, 'HTTP_WEBHOOK', { url: `${hook.url}/fail` }, 'ui-dlq-1');
    const row = page.getByTestId(`dlq-row-${id}`);
    await row.waitFor({ timeout: 40000 });
    await expect(row.textContent()).resolves.toContain('HTTP 500');
    hook.respond = () => ({ status: 200 });
    await row.getByRole('button', { name: `Retry action ${id}` }).click();
    await row.waitFor({ state: 'detached', timeout: 40000 });
    await waitFor(
      async () =>
        (await t.db.query('SELECT status FROM aol_actions WHERE id = $1', [id])).rows[0].status ===
        'SUCCESS',
      20000,
      'retried to success',
    );
    await page.getByTestId('count-success').filter({ hasText: '1' }).waitFor({ timeout: 30000 });
  });

  it('with dangerous UI ops off, proof off and force release are absent', async () => {
    expect(await page.getByRole('button', { name: 'Proof off' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Force-release lease' }).count()).toBe(0);
  });

  it('kill asks for confirmation, stops the worker, and the page shows it', async () => {
    await page.getByRole('button', { name: 'Kill', exact: true }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByRole('textbox').fill('end of campaign');
    await dialog.getByRole('button', { name: 'Kill' }).click();
    await expect(dialog.getByRole('alert').textContent()).resolves.toContain('confirm');
    await dialog.getByRole('checkbox').check();
    await dialog.getByRole('button', { name: 'Kill' }).click();
    expect(await worker.exited).toBe(0);
    await page
      .getByTestId('worker-state')
      .filter({ hasText: 'killed' })
      .waitFor({ timeout: 30000 });
    await page.getByTestId('lease').filter({ hasText: 'none' }).waitFor({ timeout: 30000 });
    await page
      .getByTestId('flag-killed')
      .filter({ hasText: 'killed: true' })
      .waitFor({ timeout: 30000 });
  });

  it('has no console errors in normal use', () => {
    expect(errors).toEqual([]);
  });

  it('backend down: a read-only error banner with the last good time; restarting the API recovers by itself', async () => {
    await api.stop();
    const banner = page.getByTestId('down-banner');
    await banner.waitFor({ timeout: 40000 });
    await expect(banner.textContent()).resolves.toMatch(
      /Backend unreachable: read-only\. Last good data at/,
    );
    expect(await page.getByRole('button', { name: 'Revive', exact: true }).isDisabled()).toBe(true);
    api = await startApiProcess(t.url, { PORT: String(port) });
    await banner.waitFor({ state: 'detached', timeout: 40000 });
    expect(await page.getByRole('button', { name: 'Revive', exact: true }).isDisabled()).toBe(
      false,
    );
  });
});

describeWithBrowser('operator web UI with tokens and dangerous ops enabled', () => {
  it('controls the token role may not use are disabled with a reason; proof off is shown and works for an admin', async () => {
    const t: TestDb = await createTestDb('ui_tokens');
    const api = await startApiProcess(t.url, {
      AOL_API_TOKENS: 'vic:viewer:viewer-token-0123456789,ada:admin:admin-token-0123456789',
      AICMO_ENABLE_DANGEROUS_UI_OPS: '1',
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      const errors = collectErrors(page);
      await page.goto(api.url);
      await page.getByTestId('worker-state').waitFor({ timeout: 40000 });
      // without a token only the public health is shown, with a hint; the controls say why they are off
      await page.getByText('this API needs a token').waitFor({ timeout: 30000 });
      expect(
        await page.getByRole('button', { name: 'Pause', exact: true }).getAttribute('title'),
      ).toMatch(/enter an API token/);
      await useToken(page, 'viewer-token-0123456789');
      await page.getByTestId('who').filter({ hasText: 'vic (viewer)' }).waitFor({ timeout: 30000 });
      const pause = page.getByRole('button', { name: 'Pause', exact: true });
      expect(await pause.isDisabled()).toBe(true);
      expect(await pause.getAttribute('title')).toMatch(
        /needs the operator role; this token \(vic\) is viewer/,
      );
      expect(await page.getByRole('button', { name: 'Proof off' }).getAttribute('title')).toMatch(
        /needs the admin role/,
      );
      // the token survives a reload (session storage)
      await page.reload();
      await page.getByTestId('who').filter({ hasText: 'vic (viewer)' }).waitFor({ timeout: 30000 });
      await useToken(page, 'admin-token-0123456789');
      await page.getByTestId('who').filter({ hasText: 'ada (admin)' }).waitFor({ timeout: 30000 });
      await page.getByRole('button', { name: 'Proof off' }).click();
      const dialog = page.locator('dialog[open]');
      await dialog.getByRole('textbox').fill('staging test');
      await dialog.getByRole('checkbox').check();
      await dialog.getByRole('button', { name: 'Proof off' }).click();
      await page.getByTestId('flag-proof').filter({ hasText: 'off' }).waitFor({ timeout: 30000 });
      const [e] = await events(t.db, `type = 'ProofModeDisabled'`);
      expect(e.metadata).toMatchObject({ actor: 'ada', via: 'ui', reason: 'staging test' });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await api.stop();
      await t.db.close();
    }
  }, 180000);
});

describeWithBrowser('operator web UI: production four-eyes', () => {
  it('another admin sees the pending proof-off request with its Approve button; the requester cannot approve', async () => {
    const t: TestDb = await createTestDb('ui_four_eyes');
    const api = await startApiProcess(t.url, {
      NODE_ENV: 'production',
      AICMO_ENABLE_DANGEROUS_UI_OPS: '1',
      AOL_API_TOKENS: 'alice:admin:alice-token-0123456789,bob:admin:bob-token-0123456789',
    });
    const browser = await launchBrowser();
    try {
      const r = await fetch(`${api.url}/control/proof-mode`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer alice-token-0123456789',
        },
        body: JSON.stringify({ enabled: false, reason: 'launch' }),
      });
      expect(r.status).toBe(202);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors = collectErrors(page);
      await page.goto(api.url);
      await useToken(page, 'alice-token-0123456789');
      const pending = page.getByTestId('pending-request');
      await pending.filter({ hasText: 'requested by alice' }).waitFor({ timeout: 30000 });
      expect(await pending.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
      expect(await pending.getByRole('button', { name: 'Approve' }).getAttribute('title')).toMatch(
        /four-eyes/,
      );
      await useToken(page, 'bob-token-0123456789');
      await page.getByTestId('who').filter({ hasText: 'bob (admin)' }).waitFor({ timeout: 30000 });
      await pending.getByRole('button', { name: 'Approve' }).click();
      const dialog = page.locator('dialog[open]');
      await dialog.getByRole('textbox').fill('second pair of eyes');
      await dialog.getByRole('button', { name: 'Approve proof off' }).click();
      await page.getByTestId('flag-proof').filter({ hasText: 'off' }).waitFor({ timeout: 30000 });
      const { rows } = await t.db.query(
        `SELECT metadata FROM aol_events WHERE type = 'ProofModeDisableApproved'`,
      );
      expect(rows[0].metadata).toMatchObject({ actor: 'bob', via: 'ui' });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await api.stop();
      await t.db.close();
    }
  }, 180000);
});
