import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Db } from '../../src/db/db.js';
import { freePort } from '../../src/db/embedded.js';
import { packageRoot } from '../../src/common/paths.js';
import { spawnNode } from '../support/spawn.js';
import { Rng } from './rng.js';

/** The product's build: chaos runs the processes that ship (node dist/cli.js, dist/main.js). */
const DIST = join(packageRoot(), 'dist');
const WORKER_ENV = {
  AOL_TICK_INTERVAL_SECONDS: '0.2',
  AOL_LEASE_TTL_SECONDS: '2',
  AOL_PROOF_MODE: 'false',
  AOL_MAX_RETRIES: '3',
  AOL_RETRY_BASE_SECONDS: '0.2',
  AOL_RETRY_MAX_SECONDS: '1',
  AOL_MAX_ACTIONS_PER_TICK: '5',
  AOL_MAX_TICK_SECONDS: '5',
  DB_STARTUP_RETRY_SECS: '60',
};

export type Worker = { id: string; child: ChildProcess; stopped: boolean };
/** sql: the superuser's psql; role: psql as a LOGIN role granted only aol_operator. */
export type Door = 'rest' | 'cli' | 'sql' | 'role';
type Change = 'pause' | 'resume' | 'kill' | 'revive' | 'proof-on' | 'proof-off';

const SQL: Record<Change, string> = {
  pause: 'UPDATE aol_control_flags SET paused = true WHERE id = 1',
  resume: 'UPDATE aol_control_flags SET paused = false WHERE id = 1',
  kill: 'UPDATE aol_control_flags SET killed = true WHERE id = 1',
  revive: 'UPDATE aol_control_flags SET killed = false WHERE id = 1',
  'proof-on': 'UPDATE aol_control_flags SET proof_mode = true WHERE id = 1',
  'proof-off': 'UPDATE aol_control_flags SET proof_mode = false WHERE id = 1',
};

/** The processes of a chaos run: one API, N workers (kept at N unless killed), and the three doors to control them. */
export class Fleet {
  readonly workers: Worker[] = [];
  private api: ChildProcess | undefined;
  private apiUrl = '';
  private seq = 0;
  /** The runbook-role door's connection (chaos.ts creates the role). */
  operatorDb: Db | undefined;

  constructor(
    private readonly url: string,
    private readonly dir: string,
    private readonly size: number,
    private readonly log: (m: string) => void,
  ) {}

  private spawn(args: string[], env: Record<string, string>, logName: string): ChildProcess {
    return spawnNode(
      join(DIST, 'cli.js'),
      args.filter((a) => a !== ''),
      { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: this.url, ...env },
      { capture: false, logFile: join(this.dir, logName) },
    ).child;
  }

  async startApi(): Promise<void> {
    const port = await freePort();
    this.api = spawnNode(
      join(DIST, 'main.js'),
      [],
      {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: this.url,
        PORT: String(port),
        DB_STARTUP_RETRY_SECS: '60',
      },
      { capture: false, logFile: join(this.dir, 'api.log') },
    ).child;
    this.apiUrl = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      if (
        await fetch(`${this.apiUrl}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the API did not start');
  }

  private startWorker(): Worker {
    const child = this.spawn(['worker'], WORKER_ENV, `worker-${++this.seq}.log`);
    const w: Worker = { id: `${hostname()}:${child.pid}`, child, stopped: false };
    this.workers.push(w);
    child.on('exit', () => this.workers.splice(this.workers.indexOf(w), 1));
    return w;
  }

  fillWorkers(): void {
    while (this.workers.length < this.size) this.startWorker();
  }

  /** Keep N workers, except while kill is set (killed workers exit by design). */
  async superviseWorkers(db: Db): Promise<void> {
    const { rows } = await db
      .query<{ killed: boolean }>('SELECT killed FROM aol_control_flags')
      .catch(() => ({ rows: [{ killed: true }] }));
    if (!rows[0].killed) this.fillWorkers();
  }

  randomWorker(rng: Rng): Worker | undefined {
    const live = this.workers.filter((w) => !w.stopped && w.child.exitCode === null);
    return live.length ? rng.pick(live) : undefined;
  }

  async isHolder(db: Db, w: Worker): Promise<boolean> {
    const { rows } = await db
      .query<{ owner: string }>(
        'SELECT owner FROM aol_lease WHERE expires_at_utc > clock_timestamp()',
      )
      .catch(() => ({ rows: [] as { owner: string }[] }));
    return rows[0]?.owner === w.id;
  }

  kill(w: Worker, signal: NodeJS.Signals): void {
    if (w.stopped) process.kill(w.child.pid!, 'SIGCONT');
    w.child.kill(signal);
  }

  /** SIGSTOP past the lease TTL, then SIGCONT. */
  stall(w: Worker, ms: number): void {
    w.stopped = true;
    process.kill(w.child.pid!, 'SIGSTOP');
    setTimeout(() => {
      w.stopped = false;
      try {
        process.kill(w.child.pid!, 'SIGCONT');
      } catch {
        /* it was killed meanwhile */
      }
    }, ms).unref();
  }

  async rest(method: string, path: string, body: unknown): Promise<unknown> {
    const r = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    if (r.status >= 500 || r.status === 400)
      throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }

  cli(args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = this.spawn([...args, '--actor', 'chaos'], {}, 'cli.log');
      child.on('exit', (code) =>
        code === 0 || code === 3 ? resolve() : reject(new Error(`aol ${args[0]} exited ${code}`)),
      );
    });
  }

  async control(db: Db, change: Change, door: Door): Promise<void> {
    if (door === 'sql' || door === 'role') {
      await (door === 'role' ? this.operatorDb! : db).query(SQL[change]);
    } else if (door === 'rest') {
      if (change === 'proof-on' || change === 'proof-off')
        await this.rest('PUT', '/control/proof-mode', {
          enabled: change === 'proof-on',
          reason: 'chaos',
        });
      else await this.rest('POST', `/control/${change}`, { reason: 'chaos' });
    } else if (change === 'proof-on' || change === 'proof-off') {
      await this.cli(['proof', change === 'proof-on' ? 'on' : 'off', '--reason', 'chaos']);
    } else {
      await this.cli([change, '--reason', 'chaos']);
    }
  }

  /** Force-release the lease through a door; true when someone held it. */
  async forceRelease(db: Db, door: Door): Promise<boolean> {
    const { rows } = await db.query<{ owner: string }>('SELECT owner FROM aol_lease');
    if (!rows[0]) return false;
    if (door === 'sql' || door === 'role')
      await (door === 'role' ? this.operatorDb! : db).query('DELETE FROM aol_lease');
    else if (door === 'rest')
      await this.rest('POST', '/lease/release', { force: true, reason: 'chaos' });
    else await this.cli(['lease', 'release', '--force', '--reason', 'chaos']);
    return true;
  }

  async stopAll(): Promise<void> {
    const exits = this.workers.map((w) => new Promise((r) => w.child.once('exit', r)));
    for (const w of [...this.workers]) this.kill(w, 'SIGTERM');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
    for (const w of [...this.workers]) w.child.kill('SIGKILL');
    this.api?.kill('SIGTERM');
  }
}
