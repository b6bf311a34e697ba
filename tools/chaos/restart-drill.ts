import { SseFollower } from './sse-client.js';

export type DrillOptions = Readonly<{
  apiUrl: string;
  /** Bearer token for every request (operator or above), if the API has tokens. */
  token?: string;
  writers: number;
  readers: number;
  sseClients: number;
  restarts: number;
  /** Load time between writes succeeding again and the next restart (default 1000 ms). */
  settleMs?: number;
  /** Stop the database server and start it again (resolves when started). */
  restartDatabase: () => Promise<void>;
  /** Whether the API and worker processes are still running. */
  alive: () => boolean;
  log?: (msg: string) => void;
}>;

export type DrillReport = {
  /** Idempotency keys the API acknowledged (200/201). */
  acked: string[];
  statuses: Record<string, number>;
  /** 503s without a Retry-After header (must be 0). */
  noRetryAfter: number;
  /** Requests that got no HTTP answer at all (the API was unreachable). */
  noAnswer: number;
  followers: SseFollower[];
  /** Set when the API or worker died during the drill. */
  died: boolean;
};

/**
 * Restart PostgreSQL `restarts` times under load: `writers` loops enqueueing
 * NOOP actions with new keys, `readers` loops of GET /actions and GET
 * /control, `sseClients` followers of /events/stream from seq 0. Between
 * restarts the load runs until writes succeed again. The caller checks the
 * outcome against the database (every acknowledged key in the log, seq
 * gap-free, verify OK) and that each follower caught up without gap.
 */
export async function restartDrill(o: DrillOptions): Promise<DrillReport> {
  const log = o.log ?? (() => undefined);
  const auth: Record<string, string> = o.token ? { Authorization: `Bearer ${o.token}` } : {};
  const report: DrillReport = {
    acked: [],
    statuses: {},
    noRetryAfter: 0,
    noAnswer: 0,
    followers: [],
    died: false,
  };
  let running = true;
  let lastWriteOk = 0;
  const tally = (r: Response) => {
    report.statuses[r.status] = (report.statuses[r.status] ?? 0) + 1;
    if (r.status === 503 && !r.headers.get('retry-after')) report.noRetryAfter++;
  };
  const call = async (path: string, init: RequestInit = {}): Promise<Response | undefined> => {
    try {
      const r = await fetch(`${o.apiUrl}${path}`, {
        ...init,
        headers: { ...auth, 'content-type': 'application/json', ...init.headers },
        signal: AbortSignal.timeout(30_000),
      });
      await r.arrayBuffer();
      tally(r);
      return r;
    } catch {
      report.noAnswer++;
      return undefined;
    }
  };
  const pause = () => new Promise((r) => setTimeout(r, 5));
  let n = 0;
  const writer = async (w: number) => {
    while (running) {
      const key = `drill-${w}-${n++}`;
      const r = await call('/actions', {
        method: 'POST',
        body: JSON.stringify({ action_type: 'NOOP', payload: {}, idempotency_key: key }),
      });
      if (r && (r.status === 200 || r.status === 201)) {
        report.acked.push(key);
        lastWriteOk = Date.now();
      } else await pause();
    }
  };
  const reader = async (i: number) => {
    while (running) {
      await call(i % 2 ? '/control' : '/actions?limit=50');
      await pause();
    }
  };
  for (let i = 0; i < o.sseClients; i++) {
    const f = new SseFollower(`${o.apiUrl}/events/stream`, auth, 0);
    f.start();
    report.followers.push(f);
  }
  const loops = [
    ...Array.from({ length: o.writers }, (_, w) => writer(w)),
    ...Array.from({ length: o.readers }, (_, i) => reader(i)),
  ];
  const waitWrites = async (since: number) => {
    const deadline = Date.now() + 60_000;
    while (lastWriteOk <= since && Date.now() < deadline) await pause();
    if (lastWriteOk <= since) throw new Error('writes did not succeed again within 60 s');
    await new Promise((r) => setTimeout(r, o.settleMs ?? 1000));
  };
  try {
    await waitWrites(0);
    for (let i = 1; i <= o.restarts; i++) {
      const t0 = Date.now();
      await o.restartDatabase();
      await waitWrites(Date.now());
      log(
        `restart ${i}/${o.restarts}: writes acknowledged again ${Date.now() - t0} ms after the stop`,
      );
      if (!o.alive()) {
        report.died = true;
        break;
      }
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  report.died ||= !o.alive();
  return report;
}

/** Wait until every follower has received up to `head`; resolves with the first problem, or null. */
export async function followersCaughtUp(
  followers: readonly SseFollower[],
  head: number,
  timeoutMs = 60_000,
): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (followers.some((f) => f.last < head) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  for (const [i, f] of followers.entries()) {
    if (f.last < head) return `SSE client ${i} got to seq ${f.last} of ${head}`;
    const p = f.problem();
    if (p) return `SSE client ${i}: ${p}`;
  }
  return null;
}
