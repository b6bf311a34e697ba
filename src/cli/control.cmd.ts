import { Command } from 'commander';
import { ControlChange } from '../control/control.decider.js';
import { ControlResult, ControlService } from '../control/control.service.js';
import { parseDuration } from '../control/scoped-pause.js';
import { cliActor, cliConfig, openDb, UsageError, usageInt } from './context.js';
import type { Db } from '../db/db.js';
import { clearProduction } from '../control/deployment.js';
import { AckWaiter } from './ack-wait.js';

/** How `aol pause|resume|kill|revive` waits for the worker's acknowledgement (off: exit at the commit). */
type AckWait = Readonly<{ wait: boolean; timeoutSeconds: number }>;
const NO_WAIT: AckWait = { wait: false, timeoutSeconds: 0 };

async function change(
  change: ControlChange,
  reason: string | undefined,
  actor: string | undefined,
  json: boolean,
  ackWait: AckWait = NO_WAIT,
) {
  if (!reason?.trim()) throw new UsageError('--reason is required and must not be empty');
  const config = cliConfig();
  const db = openDb(config);
  const waiter = ackWait.wait ? new AckWaiter(config.databaseUrl!) : undefined;
  try {
    // LISTEN before the change commits, so its acknowledgement can't be missed.
    const [who] = await Promise.all([cliActor(db, actor), waiter?.open()]);
    let result = await new ControlService(db, config).change(change, reason, who);
    // Nothing else runs until the worker has acknowledged: printing and exiting
    // (the process and its backends) would share the CPU with its reaction.
    const outcome =
      waiter && result.changed && !result.acknowledged
        ? await waiter.wait(result.version, ackWait.timeoutSeconds * 1000)
        : undefined;
    if (outcome?.kind === 'acknowledged')
      result = { ...result, acknowledged: true, acknowledgment: outcome.ack };
    const notice =
      outcome?.kind === 'no-worker'
        ? 'no active worker: not acknowledged (a worker acknowledges when it takes the lease; see aol health)'
        : outcome?.kind === 'timeout'
          ? `not acknowledged by worker ${outcome.worker} within ${outcome.seconds} s (see aol health)`
          : undefined;
    if (json) {
      // stdout stays one JSON document: the notice goes into it
      console.log(JSON.stringify(notice ? { ...result, notice } : result, null, 2));
    } else {
      if (result.accepted) console.log(result.message);
      else
        console.log(
          result.changed
            ? `${result.message} (seq ${result.seq}, control version ${result.version})`
            : `no change: ${result.message}`,
        );
      console.log(
        `flags: paused=${result.paused} killed=${result.killed} proof_mode=${result.proof_mode}`,
      );
      if (outcome?.kind === 'acknowledged')
        console.log(
          `acknowledged by worker ${outcome.ack.worker} in ${outcome.ack.delay_ms} ms (control version ${outcome.ack.control_version})`,
        );
      if (notice) console.log(notice);
    }
  } finally {
    await waiter?.close();
    await db.close();
  }
}

async function withControl(
  json: boolean,
  fn: (c: ControlService, db: Db) => Promise<ControlResult>,
) {
  const config = cliConfig();
  const db = openDb(config);
  try {
    const result = await fn(new ControlService(db, config), db);
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(
        result.changed ? `${result.message} (seq ${result.seq})` : `no change: ${result.message}`,
      );
      for (const p of result.scoped_pauses)
        console.log(
          `scoped pause ${p.pause_id}: ${p.action_types?.join(', ') ?? 'all types'} until ${p.until ?? 'resumed'}`,
        );
    }
  } finally {
    await db.close();
  }
}

/** `aol pause`'s options: scoped when --type, --for or --until is given. */
type PauseOptions = Readonly<{
  reason: string;
  type?: string[];
  for?: string;
  until?: string;
  actor?: string;
  json?: boolean;
}>;

function scoped(o: PauseOptions) {
  if (!o.reason?.trim()) throw new UsageError('--reason is required and must not be empty');
  const forSeconds = o.for === undefined ? undefined : parseDuration(o.for);
  if (o.for !== undefined && forSeconds === undefined)
    throw new UsageError(`--for must be a duration such as 30m, 2h or 1h30m, got "${o.for}"`);
  const until = o.until === undefined ? undefined : new Date(o.until);
  if (until && Number.isNaN(until.getTime()))
    throw new UsageError(`--until must be an ISO 8601 date-time, got "${o.until}"`);
  const types = o.type?.flatMap((t) => t.split(',')).map((t) => t.trim().toUpperCase());
  return withControl(!!o.json, async (c, db) =>
    c.pauseScoped({ actionTypes: types, forSeconds, until }, o.reason, await cliActor(db, o.actor)),
  );
}

function endScoped(id: string, o: { reason: string; actor?: string; json?: boolean }) {
  if (!o.reason?.trim()) throw new UsageError('--reason is required and must not be empty');
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('--pause must be a pause id (a UUID)');
  return withControl(!!o.json, async (c, db) =>
    c.resumeScoped(id, o.reason, await cliActor(db, o.actor)),
  );
}

type WaitOpts = { waitAck: boolean; ackTimeout: string };
const WAIT_OPTION = [
  '--no-wait-ack',
  "exit at the commit, without waiting for the active worker's acknowledgement",
] as const;
const TIMEOUT_OPTION = [
  '--ack-timeout <seconds>',
  'wait at most this long for the acknowledgement (1-60); past it the change stands, exit code unchanged',
  '2',
] as const;
const ackWaitOf = (o: WaitOpts): AckWait => ({
  wait: o.waitAck,
  timeoutSeconds: usageInt(o.ackTimeout, '--ack-timeout', 60n),
});

export function registerControlCommands(program: Command): void {
  const flagCommand = (name: ControlChange, description: string) =>
    program
      .command(name)
      .description(description)
      .requiredOption('--reason <text>', 'why (recorded in the event log)')
      .option(
        '--actor <name>',
        'a label stored beside the actor (metadata.label); the actor is always your database login role',
      )
      .option('--json', 'print the resulting control state as JSON')
      .option(...WAIT_OPTION)
      .option(...TIMEOUT_OPTION)
      .action((o: { reason: string; actor?: string; json?: boolean } & WaitOpts) =>
        change(name, o.reason, o.actor, !!o.json, ackWaitOf(o)),
      );
  program
    .command('pause')
    .description(
      'pause the worker: no new action starts; the running one finishes. With --type and/or --for, a scoped pause of those types that ends by itself',
    )
    .requiredOption('--reason <text>', 'why (recorded in the event log)')
    .option('--type <action-type...>', 'pause only these action types (repeatable)')
    .option(
      '--for <duration>',
      'end the pause after this long (database clock), e.g. 30m, 2h, 1h30m',
    )
    .option('--until <iso-time>', 'end the pause at this time (database clock)')
    .option('--actor <name>', 'who (default: the OS user)')
    .option('--json', 'print the resulting control state as JSON')
    .option(...WAIT_OPTION)
    .option(...TIMEOUT_OPTION)
    .action((o: PauseOptions & WaitOpts) =>
      o.type || o.for || o.until
        ? scoped(o)
        : change('pause', o.reason, o.actor, !!o.json, ackWaitOf(o)),
    );
  program
    .command('resume')
    .description('resume a paused worker; with --pause, end that scoped pause')
    .requiredOption('--reason <text>', 'why (recorded in the event log)')
    .option('--pause <pause-id>', 'end this scoped pause (see aol health / GET /control)')
    .option('--actor <name>', 'who (default: the OS user)')
    .option('--json', 'print the resulting control state as JSON')
    .option(...WAIT_OPTION)
    .option(...TIMEOUT_OPTION)
    .action((o: { reason: string; pause?: string; actor?: string; json?: boolean } & WaitOpts) =>
      o.pause ? endScoped(o.pause, o) : change('resume', o.reason, o.actor, !!o.json, ackWaitOf(o)),
    );
  flagCommand(
    'kill',
    'stop the worker: it finishes the running action, releases the lease and exits',
  );
  flagCommand('revive', 'clear kill so a worker may run again');

  const proof = program
    .command('proof')
    .description('proof mode (dry run: no outbound calls): on | off | approve');
  for (const mode of ['on', 'off'] as const) {
    proof
      .command(mode)
      .description(
        mode === 'on'
          ? 'turn proof mode on (always immediate)'
          : 'turn proof mode off (in production: a request a second admin must approve)',
      )
      .requiredOption('--reason <text>', 'why (recorded in the event log)')
      .option(
        '--actor <name>',
        'a label stored beside the actor (metadata.label); the actor is always your database login role',
      )
      .option('--json', 'print the resulting control state as JSON')
      .action((o: { reason: string; actor?: string; json?: boolean }) =>
        change(mode === 'on' ? 'proof-on' : 'proof-off', o.reason, o.actor, !!o.json),
      );
  }
  proof
    .command('approve <request-id>')
    .description("approve another admin's proof-off request (production four-eyes)")
    .option('--reason <text>', 'why (recorded in the event log)')
    .option(
      '--actor <name>',
      "a label stored beside the actor; the approver is your database login role, which must differ from the requester's",
    )
    .action(async (id: string, o: { reason?: string; actor?: string }) => {
      const config = cliConfig();
      const db = openDb(config);
      try {
        const r = await new ControlService(db, config).approve(
          id,
          await cliActor(db, o.actor),
          o.reason,
        );
        console.log(`${r.message} (seq ${r.seq}); proof_mode=${r.proof_mode}`);
      } finally {
        await db.close();
      }
    });

  program
    .command('production')
    .description('whether this deployment is production (recorded in the database)')
    .command('clear')
    .description(
      'record that this deployment is no longer production (aol_admin only; four-eyes and the test-clock ban end)',
    )
    .requiredOption('--reason <text>', 'why (recorded in the event log)')
    .action(async (o: { reason: string }) => {
      if (!o.reason.trim()) throw new UsageError('--reason is required and must not be empty');
      const db = openDb(cliConfig());
      try {
        const changed = await clearProduction(db, o.reason, 'cli');
        console.log(changed ? 'ProductionModeCleared recorded' : 'no change: not production');
      } finally {
        await db.close();
      }
    });
}
