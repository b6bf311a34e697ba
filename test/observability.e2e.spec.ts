import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { ROOT, startApiProcess, startWorker, Proc, WorkerProc } from './support/processes.js';

describe('observability: /metrics, /docs, /docs-json', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  let worker: WorkerProc;
  beforeAll(async () => {
    t = await createTestDb('observability');
    api = await startApiProcess(t.url);
    worker = startWorker(t.url);
  });
  afterAll(async () => {
    await worker.stop();
    await api.stop();
    await t.db.close();
  });

  it('GET /metrics exposes the control plane, fed by the event log', async () => {
    await waitFor(
      async () => (await t.db.query('SELECT 1 FROM aol_lease')).rowCount === 1,
      20000,
      'worker active',
    );
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    await waitFor(
      async () =>
        /aol_control_ack_delay_seconds_count [1-9]/.test(
          await fetch(`${api.url}/metrics`).then((r) => r.text()),
        ),
      20000,
      'ack observed',
    );
    await waitFor(
      async () =>
        /aol_tick_duration_seconds_count\{status="PAUSED"\} [1-9]/.test(
          await fetch(`${api.url}/metrics`).then((r) => r.text()),
        ),
      20000,
      'a PAUSED tick observed',
    );
    const text = await fetch(`${api.url}/metrics`).then((r) => r.text());
    for (const name of [
      'aol_tick_duration_seconds_bucket',
      'aol_queue_depth{status="pending"}',
      'aol_lease_held 1',
      'aol_lease_epoch',
      'aol_last_tick_age_seconds',
      'aol_control_ack_delay_seconds_bucket',
      'aol_notify_to_apply_seconds_bucket',
      'aol_subscriber_lag_events',
      'aol_scrape_ok 1',
    ]) {
      expect([name, text.includes(name)]).toEqual([name, true]);
    }
    await t.db.query('UPDATE aol_control_flags SET paused = false WHERE id = 1');
  });

  it('GET /docs serves the OpenAPI UI and /docs-json the document, with DTO examples', async () => {
    const html = await fetch(`${api.url}/docs`);
    expect(html.status).toBe(200);
    expect(await html.text()).toMatch(/swagger/i);
    const doc = (await fetch(`${api.url}/docs-json`).then((r) => r.json())) as {
      paths: Record<string, unknown>;
      components: {
        schemas: Record<string, { properties: Record<string, { example?: unknown }> }>;
      };
    };
    for (const p of [
      '/control/pause',
      '/control/proof-mode',
      '/actions',
      '/lease/release',
      '/health/aol',
      '/events/stream',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
    expect(doc.components.schemas.EnqueueDto.properties.action_type.example).toBe('HTTP_WEBHOOK');
    expect(doc.components.schemas.ReasonDto.properties.reason.example).toBeTruthy();
  });
});

describe('the UI as a standalone bundle (npm run build:ui-standalone)', () => {
  it('writes dist/ui-standalone pointed at AICMO_BACKEND_URL, and refuses to run without it', () => {
    const out = join(ROOT, 'dist', 'ui-standalone');
    rmSync(out, { recursive: true, force: true });
    const bad = spawnSync(process.execPath, ['scripts/build-ui-standalone.mjs'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/AICMO_BACKEND_URL must be set/);
    const ok = spawnSync(process.execPath, ['scripts/build-ui-standalone.mjs'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, AICMO_BACKEND_URL: 'https://aol-api.example.com/' },
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expect(readFileSync(join(out, 'config.js'), 'utf8')).toContain(
      '"backendUrl":"https://aol-api.example.com"',
    );
    expect(readFileSync(join(out, 'config.js'), 'utf8')).toContain('"dangerousUiOps":false');
    rmSync(out, { recursive: true, force: true });
  });
});
