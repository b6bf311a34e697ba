import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { ROOT, startApiProcess, startWorker, Proc, WorkerProc } from './support/processes.js';
import { ALERTS } from '../src/alerts/alerts.model.js';

const RULES = join(ROOT, 'deploy', 'prometheus', 'aol.rules.yml');
const RULE_TESTS = join(ROOT, 'deploy', 'prometheus', 'aol.rules.test.yml');
const DASHBOARD = join(ROOT, 'deploy', 'grafana', 'aol.json');

/**
 * promtool comes with Debian's `prometheus` package (.ci/run installs it).
 * Without it the promtool checks are skipped on a developer's machine and
 * fail under CI=true, where it must be there.
 */
const HAVE_PROMTOOL = !spawnSync('promtool', ['--version']).error;
const CI = process.env.CI === 'true';
const withPromtool = HAVE_PROMTOOL || CI ? it : it.skip;
function promtool(args: string[], input?: string) {
  const r = spawnSync('promtool', args, { input, encoding: 'utf8' });
  if (r.error)
    throw new Error(
      `promtool not found (${r.error.message}): apt-get install -y prometheus (.ci/run does)`,
    );
  return r;
}

type RuleFile = { groups: { rules: { alert: string; expr: string }[] }[] };
const rules = () => (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const dashboardExprs = () =>
  (
    JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets: { expr: string }[] }[] }
  ).panels.flatMap((p) => p.targets.map((t) => t.expr));
const METRIC = /\b(?:aol|process|nodejs)_[a-z0-9_]+\b/g;

describe('alerting in the ecosystem’s terms: rules, dashboard, /metrics', () => {
  let t: TestDb;
  let api: Proc & { url: string };
  let worker: WorkerProc;
  let scrape = '';
  beforeAll(async () => {
    t = await createTestDb('alerting');
    api = await startApiProcess(t.url, { AOL_VERIFY_INTERVAL_SECONDS: '60' });
    worker = startWorker(t.url);
    await waitFor(
      async () => (await t.db.query('SELECT 1 FROM aol_lease')).rowCount === 1,
      20000,
      'worker active',
    );
    // A scrape with every level set: the worker present, the chain verified once.
    scrape = await waitFor(
      async () => {
        const text = await fetch(`${api.url}/metrics`).then((r) => r.text());
        return /aol_workers\{state="active"\} 1/.test(text) &&
          /aol_events_verify_ok 1/.test(text) &&
          /aol_tick_duration_seconds_count\{status="SUCCESS"\} [1-9]/.test(text)
          ? text
          : undefined;
      },
      20000,
      'a full scrape',
    );
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await t?.db.close();
  });

  withPromtool('promtool check rules and promtool test rules pass', () => {
    const check = promtool(['check', 'rules', RULES]);
    expect([check.status, check.stdout + check.stderr]).toEqual([
      0,
      expect.stringMatching(/SUCCESS: 10 rules found/),
    ]);
    const tests = promtool(['test', 'rules', RULE_TESTS]);
    expect([tests.status, tests.stdout + tests.stderr]).toEqual([
      0,
      expect.stringMatching(/SUCCESS/),
    ]);
  });

  it('every rule has a unit test and the built-in notifier knows it by the same name', () => {
    const names = rules().map((r) => r.alert);
    const tested = new Set(
      [...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]),
    );
    expect(names.filter((n) => !tested.has(n))).toEqual([]);
    expect([...names].sort()).toEqual(ALERTS.map((a) => a.name).sort());
  });

  withPromtool('promtool check metrics passes on a live scrape of /metrics', () => {
    expect(scrape.length).toBeGreaterThan(1000);
    const r = promtool(['check', 'metrics'], scrape);
    expect([r.status, r.stdout + r.stderr]).toEqual([0, '']);
    // Prometheus conventions: the client's standard names, no doubled prefix.
    expect(scrape).not.toMatch(/aol_process_/);
    expect(scrape).toMatch(/^process_cpu_seconds_total /m);
  });

  it('every metric the rules and the dashboard use is exported', () => {
    const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]));
    const histograms = new Set([...scrape.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]));
    const used = new Set(
      [...rules().map((r) => r.expr), ...dashboardExprs()].flatMap((e) => e.match(METRIC) ?? []),
    );
    expect(used.size).toBeGreaterThan(20);
    const missing = [...used].filter((n) => {
      const base = n.replace(/_(bucket|sum|count)$/, '');
      return !exported.has(n) && !(histograms.has(base) && base !== n);
    });
    expect(missing).toEqual([]);
  });
});
