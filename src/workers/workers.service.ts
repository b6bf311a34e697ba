import { Queryable } from '../db/db.js';
import { selectWorkers, WorkerRow, WorkerStatus } from './workers.sql.js';

/** A worker process as GET /workers, `aol workers` and /health/aol show it. */
export type WorkerView = Readonly<{
  id: string;
  host: string;
  pid: number;
  status: WorkerStatus;
  alive: boolean;
  epoch: number | null;
  ttl_seconds: number;
  started_at_utc: string;
  last_seen_at_utc: string;
  seen_age_seconds: number;
  left_at_utc: string | null;
}>;

export type WorkersReport = Readonly<{
  workers: WorkerView[];
  counts: Record<WorkerStatus, number>;
  server_time_utc: string;
}>;

const LIVE = new Set<WorkerStatus>(['active', 'standby', 'stopping']);

export function toWorkerView(r: WorkerRow): WorkerView {
  return {
    id: r.id,
    host: r.host,
    pid: r.pid,
    status: r.status,
    alive: LIVE.has(r.status),
    epoch: r.epoch,
    ttl_seconds: r.ttl_seconds,
    started_at_utc: r.started_at_utc.toISOString(),
    last_seen_at_utc: r.seen_at_utc.toISOString(),
    seen_age_seconds: Math.round(r.seen_age_seconds * 10) / 10,
    left_at_utc: r.left_at_utc?.toISOString() ?? null,
  };
}

export function countWorkers(workers: readonly WorkerView[]): Record<WorkerStatus, number> {
  const counts = { active: 0, standby: 0, stopping: 0, dead: 0, left: 0 };
  for (const w of workers) counts[w.status]++;
  return counts;
}

/** Worker presence, judged on database time. Free of NestJS (the CLI uses it too). */
export class WorkersService {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<WorkersReport> {
    const rows = await selectWorkers(this.db);
    const workers = rows.map(toWorkerView);
    const now =
      rows[0]?.now ?? (await this.db.query<{ t: Date }>('SELECT aol_now() AS t')).rows[0].t;
    return { workers, counts: countWorkers(workers), server_time_utc: now.toISOString() };
  }
}
