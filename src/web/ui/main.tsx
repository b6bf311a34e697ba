import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  ApiError,
  canRead,
  config,
  EVENT_TYPES,
  parseEventFrame,
  eventStreamUrl,
  getToken,
  setToken,
} from './api';
import type { Action, AolEvent, Control, Health, Me, Schedule, Tick } from './types';
import { AuditLog } from './components/AuditLog';
import { Controls } from './components/Controls';
import { DlqTable, QueueCounts, RecentActions } from './components/Queue';
import { Ask, ReasonDialog } from './components/ReasonDialog';
import { Schedules } from './components/Schedules';
import { Status } from './components/Status';
import { TickChart } from './components/TickChart';
import { Workers } from './components/Workers';
import './styles.css';

const POLL_MS = 3000;

/**
 * The operator page. Live without reloading: the audit log streams in over
 * SSE and every event (plus a poll of /health/aol every 3 s) refreshes the
 * panels; ages and the lease TTL count locally between refreshes. When the
 * backend can't be reached the page turns read-only with the time of the last
 * good data, and recovers by itself.
 */
function App() {
  const [health, setHealth] = useState<Health | null>(null);
  const [control, setControl] = useState<Control | null>(null);
  const [me, setMe] = useState<Me | null>(null);
  const [authError, setAuthError] = useState<string | null>(null);
  const [dlq, setDlq] = useState<Action[]>([]);
  const [recent, setRecent] = useState<Action[]>([]);
  const [ticks, setTicks] = useState<Tick[]>([]);
  const [schedules, setSchedules] = useState<Schedule[]>([]);
  const [events, setEvents] = useState<AolEvent[]>([]);
  const [down, setDown] = useState(false);
  const [lastGood, setLastGood] = useState<Date | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [ask, setAsk] = useState<Ask | null>(null);
  const [token, setTokenState] = useState(getToken());
  const fetchedAt = useRef(Date.now());
  const lastSeq = useRef(0);
  const timer = useRef<number | undefined>(undefined);

  const load = useCallback(async () => {
    try {
      const h = await api<Health>('/health/aol');
      setHealth(h);
      fetchedAt.current = Date.now();
      setElapsed(0);
      setDown(false);
      setLastGood(new Date());
      if (!canRead()) {
        setMe(null);
        setAuthError('this API needs a token: enter one above');
        return;
      }
      const [c, who, d, r, t, sc] = await Promise.all([
        api<Control>('/control'),
        api<Me>('/whoami'),
        api<{ actions: Action[] }>('/actions?status=DLQ&limit=100'),
        api<{ actions: Action[] }>('/actions?limit=15'),
        api<{ ticks: Tick[] }>('/ticks?limit=60'),
        api<{ schedules: Schedule[] }>('/schedules'),
      ]);
      setControl(c);
      setMe(who);
      setAuthError(null);
      setDlq(d.actions);
      setRecent(r.actions);
      setTicks(t.ticks);
      setSchedules(sc.schedules);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        setMe(null);
        setAuthError(err.status === 401 ? 'this API needs a token: enter one above' : err.message);
      } else if (err instanceof ApiError && err.status === 0) setDown(true);
      else if (err instanceof ApiError && err.status === 503) setDown(true);
    }
  }, []);

  // One load at a time: events (every tick and renewal) and the poll ask for
  // refreshes faster than a slow API answers them, and overlapping loads
  // would queue behind each other in the browser's six connections without
  // end. Requests made meanwhile coalesce into one more load.
  const loading = useRef(false);
  const again = useRef(false);
  const refresh = useCallback(async () => {
    if (loading.current) {
      again.current = true;
      return;
    }
    loading.current = true;
    try {
      do {
        again.current = false;
        await load();
      } while (again.current);
    } finally {
      loading.current = false;
    }
  }, [load]);

  const soon = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => void refresh(), 120);
  }, [refresh]);

  useEffect(() => {
    void refresh();
    const poll = window.setInterval(() => void refresh(), POLL_MS);
    const tick = window.setInterval(
      () => setElapsed((Date.now() - fetchedAt.current) / 1000),
      1000,
    );
    return () => {
      window.clearInterval(poll);
      window.clearInterval(tick);
    };
  }, [refresh, token]);

  // The audit log: the last 100 events, then live over SSE (resuming after the last seq it saw).
  useEffect(() => {
    let es: EventSource | undefined;
    let closed = false;
    const start = async () => {
      if (!canRead()) return;
      try {
        const h = await api<Health>('/health/aol');
        const after = lastSeq.current || Math.max(0, h.last_event_seq - 100);
        if (!lastSeq.current) {
          // the last 100 events, and the people's changes and worker's decisions among the last
          // 1000, so heartbeats (shown on request) never crowd them out of the first page
          const [recent, decisions] = await Promise.all([
            api<{ events: AolEvent[] }>(`/events?after=${after}&limit=100`),
            api<{ events: AolEvent[] }>(
              `/events?after=${Math.max(0, h.last_event_seq - 1000)}&limit=1000&heartbeats=exclude`,
            ),
          ]);
          const upTo = recent.events.at(-1)?.seq ?? after;
          const bySeq = new Map(
            [...decisions.events.filter((e) => e.seq <= upTo), ...recent.events].map((e) => [
              e.seq,
              e,
            ]),
          );
          setEvents([...bySeq.values()].sort((a, b) => a.seq - b.seq));
          lastSeq.current = upTo;
        }
        if (closed) return;
        es = new EventSource(eventStreamUrl(lastSeq.current));
        const on = (m: MessageEvent<string>) => {
          const e = parseEventFrame(m.data);
          if (!e || e.seq <= lastSeq.current) return;
          lastSeq.current = e.seq;
          setEvents((prev) => [...prev.slice(-1200), e]);
          if (e.type !== 'LeaseRenewed') soon();
        };
        for (const t of EVENT_TYPES) es.addEventListener(t, on as EventListener);
        es.onerror = () => {
          // EventSource retries by itself (the server sets retry: 2000); health polling shows the outage.
        };
      } catch {
        if (!closed) window.setTimeout(() => void start(), POLL_MS);
      }
    };
    void start();
    return () => {
      closed = true;
      es?.close();
    };
  }, [soon, token]);

  const saveToken = (e: Event) => {
    e.preventDefault();
    const v = (
      (e.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement
    ).value.trim();
    setToken(v);
    setTokenState(v);
    lastSeq.current = 0;
  };

  return (
    <>
      <header>
        <h1>AOL operator</h1>
        <form class="token" onSubmit={saveToken}>
          <label>
            API token{' '}
            <input
              name="token"
              type="password"
              autoComplete="off"
              defaultValue={token}
              placeholder="Bearer token"
            />
          </label>
          <button type="submit">Use</button>
          <span class="who" data-testid="who">
            {me ? `${me.name} (${me.role})` : 'no token'}
          </span>
        </form>
      </header>
      {down && (
        <div class="banner" role="alert" data-testid="down-banner">
          Backend unreachable{config.backendUrl ? ` (${config.backendUrl})` : ''}: read-only.
          {lastGood ? ` Last good data at ${lastGood.toLocaleTimeString()}.` : ''} Retrying every{' '}
          {POLL_MS / 1000} s…
        </div>
      )}
      {authError && (
        <div class="banner warn" role="status">
          {authError}
        </div>
      )}
      {!health ? (
        <main>
          <p>{down ? 'Waiting for the backend…' : 'Loading…'}</p>
        </main>
      ) : (
        <main class={down ? 'stale' : ''}>
          <Status health={health} control={control} elapsed={elapsed} />
          <Controls
            health={health}
            control={control}
            me={me}
            down={down}
            ask={setAsk}
            after={soon}
          />
          <Workers health={health} />
          <QueueCounts health={health} />
          <DlqTable dlq={dlq} me={me} down={down} ask={setAsk} after={soon} />
          <TickChart ticks={ticks} />
          <RecentActions actions={recent} />
          <Schedules schedules={schedules} />
          <AuditLog events={events} />
        </main>
      )}
      <ReasonDialog ask={ask} onClose={() => setAsk(null)} />
    </>
  );
}

render(<App />, document.getElementById('app')!);
