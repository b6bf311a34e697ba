import { Command } from 'commander';
import { ControlChange } from '../control/control.decider.js';
import { ControlService } from '../control/control.service.js';
import { cliActor, cliConfig, openDb, UsageError } from './context.js';
import { clearProduction } from '../control/deployment.js';

async function change(
  change: ControlChange,
  reason: string | undefined,
  actor: string | undefined,
  json: boolean,
) {
  if (!reason?.trim()) throw new UsageError('--reason is required and must not be empty');
  const config = cliConfig();
  const db = openDb(config);
  try {
    const result = await new ControlService(db, config).change(
      change,
      reason,
      await cliActor(db, actor),
    );
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
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
    }
  } finally {
    await db.close();
  }
}

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
      .action((o: { reason: string; actor?: string; json?: boolean }) =>
        change(name, o.reason, o.actor, !!o.json),
      );
  flagCommand('pause', 'pause the worker: no new action starts; the running one finishes');
  flagCommand('resume', 'resume a paused worker');
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
