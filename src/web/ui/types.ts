export type Health = {
  last_tick_at: string | null;
  last_tick_status: string | null;
  last_tick_age_seconds: number | null;
  worker_state: 'active' | 'paused' | 'slow' | 'dead' | 'never';
  lease: {
    owner: string | null;
    epoch: number | null;
    expires_at: string | null;
    ttl_seconds: number | null;
    status: 'valid' | 'expired' | 'none';
  };
  flags: { paused: boolean; killed: boolean; proof_mode: boolean };
  control_version: number;
  control_acknowledged: boolean;
  acknowledgment_delay_ms: number | null;
  queue_counts: Record<string, number>;
  last_event_seq: number;
  server_time_utc: string;
  warnings: { code: string; message: string }[];
  /** Worker presence (null in a replayed view). */
  workers: WorkerPresence[] | null;
  standbys: number | null;
};

export type WorkerPresence = {
  id: string;
  status: 'active' | 'standby' | 'stopping' | 'dead';
  alive: boolean;
  epoch: number | null;
  seen_age_seconds: number;
};

export type Control = {
  paused: boolean;
  killed: boolean;
  proof_mode: boolean;
  version: number;
  acknowledged: boolean;
  acknowledgment: {
    control_version: number;
    worker: string | null;
    delay_ms: number | null;
    at: string | null;
  } | null;
  pending_request: {
    request_id: string;
    requested_by: string;
    reason: string | null;
    expires_at: string;
  } | null;
  scoped_pauses?: {
    pause_id: string;
    action_types: string[] | null;
    until: string | null;
    reason: string | null;
    started_by: string;
  }[];
};

export type Action = {
  id: number;
  idempotency_key: string;
  action_type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at_utc: string;
  not_before_utc: string;
};

export type LogLine = {
  seq: number;
  ts_utc: string;
  level: string;
  message: string;
  artifact_ref: string | null;
  artifact_sha256: string | null;
};

export type AolEvent = {
  seq: number;
  stream: string;
  type: string;
  data: Record<string, unknown>;
  metadata: { actor?: string; via?: string; reason?: string };
  occurred_at: string;
};

export type Tick = {
  seq: number;
  started_at_utc: string;
  finished_at_utc: string;
  status: string;
  actions_attempted: number;
  actions_succeeded: number;
  worker: string;
};

export type Me = { name: string; role: 'viewer' | 'operator' | 'admin' };

export type UiConfig = {
  backendUrl: string;
  dangerousUiOps: boolean;
  production: boolean;
  authRequired: boolean;
};

/** GET /schedules (src/schedules/schedules.service.ts ScheduleView). */
export type Schedule = {
  schedule_id: string;
  cron: string;
  time_zone: string;
  action_type: string;
  missed_fires: 'skip' | 'catch_up';
  catch_up_max: number | null;
  status: 'ACTIVE' | 'PAUSED' | 'DELETED';
  next_fires: string[];
  fired: number;
  missed: number;
  last_fire: string | null;
  last_action_id: number | null;
};
