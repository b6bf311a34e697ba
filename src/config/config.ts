import type { KeyObject } from 'node:crypto';
import { KeyFormatError, parsePrivateKey } from '../common/signing.js';
import { redactQuery } from '../common/redact.js';
import { ConfigError } from '../common/errors.js';

/**
 * Configuration, parsed and validated once at start-up (SPEC section 7). A bad
 * value stops the process with a message naming the variable; nothing else in
 * the code reads process.env, except what is needed before a config exists:
 * AOL_LOG_FORMAT (src/common/log.ts) and AOL_EMBEDDED_HOME (src/db/embedded-access.ts).
 */
export type Config = Readonly<{
  databaseUrl: string | undefined;
  port: number;
  production: boolean;
  dbStartupRetrySecs: number;
  tickIntervalSeconds: number;
  maxActionsPerTick: number;
  /** Actions claimed per claim statement (throughput setting; 1 = pause/kill act between any two actions). */
  claimBatchSize: number;
  /** Attempts of a claimed batch run at once (throughput setting). */
  workerConcurrency: number;
  maxTickSeconds: number;
  maxRetries: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  proofMode: boolean;
  leaseTtlSeconds: number;
  artifactDir: string | undefined;
  apiTokens: string | undefined;
  corsOrigins: string[];
  backendUrl: string | undefined;
  dangerousUiOps: boolean;
  openaiApiKey: string | undefined;
  openaiBaseUrl: string | undefined;
  smtpUrl: string | undefined;
  /** Bounded resources (docs/operations.md "Limits"): the API's pool and how long a request waits for one of its clients. */
  dbPoolSize: number;
  dbPoolTimeoutSeconds: number;
  /** SSE connections in all and per token (or per `anonymous`), and how long a client may stay blocked before it is dropped. */
  sseMaxConnections: number;
  sseMaxConnectionsPerToken: number;
  sseStallTimeoutSeconds: number;
  /** Point-in-time replays (`?at=`) per token per minute. */
  replayRatePerMinute: number;
  /** Ed25519 key that signs checkpoints (AOL_SIGNING_KEY); a KeyObject never prints its bytes. */
  signingKey: KeyObject | undefined;
  checkpointEveryEvents: number;
  checkpointEverySeconds: number;
  checkpointDir: string | undefined;
  /** A snapshot of the replayed state every this many events (AOL_SNAPSHOT_EVERY_EVENTS; 0: none). */
  snapshotEveryEvents: number;
  /** How often an API process looks for due schedule fire times (AOL_SCHEDULER_INTERVAL_SECONDS; 0: this process never fires). */
  schedulerIntervalSeconds: number;
  mastodonBaseUrl: string | undefined;
  mastodonAccessToken: string | undefined;
  blueskyServiceUrl: string | undefined;
  blueskyHandle: string | undefined;
  blueskyAppPassword: string | undefined;
  /** Header names whose values must be secret references, lower case (defaults + AOL_CREDENTIAL_HEADERS). */
  credentialHeaders: readonly string[];
  /** Hosts a production webhook may call even if they resolve to a private address. */
  webhookAllowHosts: readonly string[];
  /** AOL_SECRET_<NAME> values by NAME, for `{"$secret": "NAME"}` references (never logged). */
  secrets: ReadonlyMap<string, string>;
  /** Warn (health, alerts) when the active worker has no live standby. */
  expectStandby: boolean;
  /** Built-in notifier: Slack-compatible webhook and/or email recipients (SMTP_URL). */
  alertWebhookUrl: string | undefined;
  alertEmail: string[];
  alertIntervalSeconds: number;
  /** How often each API process verifies the hash chain for the metrics and alerts (0: never). */
  verifyIntervalSeconds: number;
}>;

/** Credential headers whose literal values are refused at enqueue; AOL_CREDENTIAL_HEADERS adds more. */
export const DEFAULT_CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
];

const list = (env: Env, name: string): string[] =>
  (text(env, name) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

/** A bad setting; defined in common/errors.ts so logging can name it without importing config. */
export { ConfigError };

type Env = Readonly<Record<string, string | undefined>>;

function text(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function num(
  env: Env,
  name: string,
  fallback: number,
  opts: { min: number; int?: boolean },
): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < opts.min || (opts.int && !Number.isInteger(n))) {
    const kind = opts.int ? 'an integer' : 'a number';
    throw new ConfigError(`${name} must be ${kind} >= ${opts.min}, got "${raw}"`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true/false (or 1/0), got "${raw}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const production = text(env, 'NODE_ENV') === 'production';
  const databaseUrl = text(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  return {
    databaseUrl,
    port: num(env, 'PORT', 8000, { min: 0, int: true }),
    production,
    dbStartupRetrySecs: num(env, 'DB_STARTUP_RETRY_SECS', 30, { min: 0 }),
    tickIntervalSeconds: num(env, 'AOL_TICK_INTERVAL_SECONDS', 30, { min: 0.01 }),
    maxActionsPerTick: num(env, 'AOL_MAX_ACTIONS_PER_TICK', 3, { min: 1, int: true }),
    claimBatchSize: num(env, 'AOL_CLAIM_BATCH_SIZE', 1, { min: 1, int: true }),
    workerConcurrency: num(env, 'AOL_WORKER_CONCURRENCY', 1, { min: 1, int: true }),
    maxTickSeconds: num(env, 'AOL_MAX_TICK_SECONDS', 20, { min: 0.01 }),
    maxRetries: num(env, 'AOL_MAX_RETRIES', 3, { min: 1, int: true }),
    retryBaseSeconds: num(env, 'AOL_RETRY_BASE_SECONDS', 5, { min: 0 }),
    retryMaxSeconds: num(env, 'AOL_RETRY_MAX_SECONDS', 300, { min: 0 }),
    proofMode: bool(env, 'AOL_PROOF_MODE', true),
    leaseTtlSeconds: num(env, 'AOL_LEASE_TTL_SECONDS', 30, { min: 0.3 }),
    artifactDir: text(env, 'AOL_ARTIFACT_DIR'),
    apiTokens: text(env, 'AOL_API_TOKENS'),
    corsOrigins: (text(env, 'AOL_CORS_ORIGINS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    backendUrl: text(env, 'AICMO_BACKEND_URL'),
    dangerousUiOps: bool(env, 'AICMO_ENABLE_DANGEROUS_UI_OPS', false),
    openaiApiKey: text(env, 'OPENAI_API_KEY'),
    openaiBaseUrl: text(env, 'OPENAI_BASE_URL'),
    smtpUrl: text(env, 'SMTP_URL'),
    dbPoolSize: num(env, 'AOL_DB_POOL_SIZE', 10, { min: 1, int: true }),
    dbPoolTimeoutSeconds: num(env, 'AOL_DB_POOL_TIMEOUT_SECONDS', 5, { min: 0.1 }),
    sseMaxConnections: num(env, 'AOL_SSE_MAX_CONNECTIONS', 200, { min: 1, int: true }),
    sseMaxConnectionsPerToken: num(env, 'AOL_SSE_MAX_CONNECTIONS_PER_TOKEN', 20, {
      min: 1,
      int: true,
    }),
    sseStallTimeoutSeconds: num(env, 'AOL_SSE_STALL_TIMEOUT_SECONDS', 30, { min: 0.1 }),
    replayRatePerMinute: num(env, 'AOL_REPLAY_RATE_PER_MINUTE', 30, { min: 1, int: true }),
    signingKey: signingKey(env),
    checkpointEveryEvents: num(env, 'AOL_CHECKPOINT_EVERY_EVENTS', 1000, { min: 1, int: true }),
    checkpointEverySeconds: num(env, 'AOL_CHECKPOINT_EVERY_SECONDS', 3600, { min: 0.1 }),
    checkpointDir: text(env, 'AOL_CHECKPOINT_DIR'),
    snapshotEveryEvents: num(env, 'AOL_SNAPSHOT_EVERY_EVENTS', 1000, { min: 0, int: true }),
    schedulerIntervalSeconds: num(env, 'AOL_SCHEDULER_INTERVAL_SECONDS', 1, { min: 0 }),
    ...socialConfig(env),
    credentialHeaders: [
      ...new Set([...DEFAULT_CREDENTIAL_HEADERS, ...list(env, 'AOL_CREDENTIAL_HEADERS')]),
    ],
    webhookAllowHosts: list(env, 'AOL_WEBHOOK_ALLOW_HOSTS'),
    secrets: new Map(
      Object.entries(env)
        .filter(([k, v]) => k.startsWith('AOL_SECRET_') && k.length > 11 && v !== undefined)
        .map(([k, v]) => [k.slice(11), v!]),
    ),
    expectStandby: bool(env, 'AOL_EXPECT_STANDBY', false),
    ...alerting(env),
  };
}

function alerting(env: Env) {
  const alertWebhookUrl = text(env, 'AOL_ALERT_WEBHOOK_URL');
  if (alertWebhookUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(alertWebhookUrl))
    throw new ConfigError('AOL_ALERT_WEBHOOK_URL must be an http:// or https:// URL');
  const alertEmail = (text(env, 'AOL_ALERT_EMAIL') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of alertEmail)
    if (!/^[^\s@]+@[^\s@]+$/.test(a))
      throw new ConfigError(`AOL_ALERT_EMAIL must be comma-separated email addresses, got "${a}"`);
  if (alertEmail.length > 0 && !text(env, 'SMTP_URL'))
    throw new ConfigError('AOL_ALERT_EMAIL needs SMTP_URL to send through');
  return {
    alertWebhookUrl,
    alertEmail,
    alertIntervalSeconds: num(env, 'AOL_ALERT_INTERVAL_SECONDS', 15, { min: 0.05 }),
    verifyIntervalSeconds: num(env, 'AOL_VERIFY_INTERVAL_SECONDS', 300, { min: 0 }),
  };
}

/** A platform's variables are all set or none: half a configuration stops start-up, naming what is missing. */
function socialConfig(env: Env) {
  const groups = [
    ['MASTODON_BASE_URL', 'MASTODON_ACCESS_TOKEN'],
    ['BLUESKY_SERVICE_URL', 'BLUESKY_HANDLE', 'BLUESKY_APP_PASSWORD'],
  ];
  for (const g of groups) {
    const missing = g.filter((n) => text(env, n) === undefined);
    if (missing.length > 0 && missing.length < g.length)
      throw new ConfigError(
        `${missing.join(', ')} must be set too when ${g.filter((n) => !missing.includes(n)).join(', ')} is set`,
      );
  }
  for (const n of ['MASTODON_BASE_URL', 'BLUESKY_SERVICE_URL']) {
    const v = text(env, n);
    if (v !== undefined && !/^https?:\/\/[^\s/]+/i.test(v))
      throw new ConfigError(`${n} must be an http(s) URL, got "${v}"`);
  }
  return {
    mastodonBaseUrl: text(env, 'MASTODON_BASE_URL'),
    mastodonAccessToken: text(env, 'MASTODON_ACCESS_TOKEN'),
    blueskyServiceUrl: text(env, 'BLUESKY_SERVICE_URL'),
    blueskyHandle: text(env, 'BLUESKY_HANDLE'),
    blueskyAppPassword: text(env, 'BLUESKY_APP_PASSWORD'),
  };
}

/** The message names the variable and never repeats its value. */
function signingKey(env: Env): KeyObject | undefined {
  const raw = text(env, 'AOL_SIGNING_KEY');
  if (raw === undefined) return undefined;
  try {
    return parsePrivateKey(raw);
  } catch (err) {
    if (err instanceof KeyFormatError) throw new ConfigError(`AOL_SIGNING_KEY ${err.message}`);
    throw err;
  }
}

/** The database URL with its password replaced, for logs and CLI output. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return redactQuery(u.toString());
  } catch {
    return '<unparseable database URL>';
  }
}
