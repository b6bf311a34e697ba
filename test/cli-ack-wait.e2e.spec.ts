import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDb, TestDb, waitFor } from './support/db.js';
import { runCli, startWorker, WorkerProc } from './support/processes.js';
import { events, lease } from './support/queries.js';
import { AckWaiter } from '../src/cli/ack-wait.js';

/** `aol pause|resume|kill|revive` waits (bounded) for the active worker's ControlAcknowledged. */
describe('aol pause|resume|kill|revive wait for the acknowledgement (given / when / then)', () => {
  let t: TestDb;
  let env: Record<string, string>;
  let w: WorkerProc | undefined;
  const version = async () =>
    (await t.db.query<{ version: number }>('SELECT version FROM aol_control_flags')).rows[0]
      .version;
  const ackOf = async (v: number) =>
    (
      await events(t.db, `type = 'ControlAcknowledged' AND (data->>'control_version')::int = $1`, [
        v,
      ])
    )[0];
  const active = async () => {
    w = startWorker(t.url, { AOL_TICK_INTERVAL_SECONDS: '30' });
    await waitFor(async () => (await lease(t.db))?.owner === w!.id(), 20000, 'worker active');
  };

  beforeAll(async () => {
    t = await createTestDb('cli_ack');
    env = { DATABASE_URL: t.url };
  });
  afterEach(async () => {
    if (w) process.kill(w.pid, 'SIGCONT');
    await w?.stop('SIGKILL');
    w = undefined;
    await t.db.query('DELETE FROM aol_lease');
    await t.db.query('UPDATE aol_control_flags SET paused = false, killed = false WHERE id = 1');
  });
  afterAll(() => t.db.close());

  it('given an active worker, when aol pause runs, then it exits after the worker acknowledged that version and prints the delay', async () => {
    await active();
    const r = await runCli(['pause', '--reason', 'wait for it'], env);
    expect(r.code).toBe(0);
    const v = await version();
    // the acknowledgement is in the log before the CLI has printed anything
    const ack = await ackOf(v);
    expect(ack).toBeDefined();
    expect(r.stdout).toMatch(/ControlPaused recorded/);
    expect(r.stdout).toContain(
      `acknowledged by worker ${w!.id()} in ${ack.data.delay_ms} ms (control version ${v})`,
    );
  });

  it('given an active worker, when aol resume --json runs, then the JSON carries the acknowledgement and stdout is only JSON', async () => {
    await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
    await active();
    const r = await runCli(['resume', '--reason', 'back', '--json'], env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      paused: false,
      changed: true,
      acknowledged: true,
      acknowledgment: { control_version: out.version, worker: w!.id() },
    });
    expect((out.acknowledgment as { delay_ms: number }).delay_ms).toEqual(expect.any(Number));
  });

  it('given an active worker, when aol kill runs, then it reports the acknowledgement and the worker exits 0', async () => {
    await active();
    const r = await runCli(['kill', '--reason', 'stop'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/acknowledged by worker .* \(control version \d+\)/);
    expect(await w!.exited).toBe(0);
    w = undefined;
  });

  it('given no active worker, when aol pause runs, then it does not wait: a notice, exit 0, the change recorded', async () => {
    const before = await version();
    const started = Date.now();
    const r = await runCli(['pause', '--reason', 'nobody home', '--ack-timeout', '60'], env);
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000); // not the 60 s timeout
    expect(r.stdout).toMatch(/ControlPaused recorded/);
    expect(r.stdout).toMatch(/no active worker: not acknowledged/);
    expect(await version()).toBe(before + 1);
    const json = await runCli(['resume', '--reason', 'x', '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      paused: false,
      acknowledged: false,
      notice: expect.stringMatching(/^no active worker: not acknowledged/),
    });
  });

  it('given an active worker that does not react (stopped), when aol pause --ack-timeout 1 runs, then it gives up after the timeout: a notice, exit 0', async () => {
    await active();
    process.kill(w!.pid, 'SIGSTOP');
    const r = await runCli(['pause', '--reason', 'frozen', '--ack-timeout', '1'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ControlPaused recorded/);
    expect(r.stdout).toContain(`not acknowledged by worker ${w!.id()} within 1 s`);
    expect((await t.db.query('SELECT paused FROM aol_control_flags')).rows[0].paused).toBe(true);
  });

  it('given --no-wait-ack, when aol pause runs with an active worker, then it prints no acknowledgement line', async () => {
    await active();
    const r = await runCli(['pause', '--reason', 'fire and forget', '--no-wait-ack'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ControlPaused recorded/);
    expect(r.stdout).not.toMatch(/acknowledged/);
    await waitFor(async () => ackOf(await version()), 10000, 'ack anyway');
  });

  it('given a bad --ack-timeout, when aol pause runs, then it is a usage error (64) and nothing is written', async () => {
    const before = await version();
    for (const bad of ['0', '61', 'soon']) {
      const r = await runCli(['pause', '--reason', 'x', '--ack-timeout', bad], env);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(/--ack-timeout/);
    }
    expect(await version()).toBe(before);
  });
  it('given a worker that acknowledges before the CLI starts waiting, when it waits, then the early acknowledgement counts (no timeout)', async () => {
    await active();
    const waiter = new AckWaiter(t.url);
    await waiter.open();
    try {
      await t.db.query('UPDATE aol_control_flags SET paused = true WHERE id = 1');
      const v = await version();
      await waitFor(async () => (await ackOf(v)) !== undefined, 20000, 'acknowledged');
      // the NOTIFY has reached the waiter's connection before wait() is called
      await t.db.query('SELECT pg_sleep(0.2)');
      // before the fix the pointer was dropped and this waited out its timeout
      expect((await waiter.wait(v, 5000)).kind).toBe('acknowledged');
    } finally {
      await waiter.close();
    }
  });
});
