import { Command } from 'commander';
import { ControlChange } from '../control/control.decider.js';
import { ControlService } from '../control/control.service.js';
import { cliActor, cliConfig, openDb, UsageError } from './context.js';

async function change(
  change: ControlChange,
  reason: string | undefined,
  actor: string | undefined,
  json: boolean,
) {
  if (!reason?.trim()) throw new UsageError('--reason is required and must not be empty');
  const db = openDb(cliConfig());
  try {
    const result = await new ControlService(db).change(change, reason, cliActor(actor));
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
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
      .option('--actor <name>', 'who (default: the OS user)')
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

  program
    .command('proof')
    .description('turn proof mode (dry run: no outbound calls) on or off')
    .argument('<on|off>', 'on or off')
    .requiredOption('--reason <text>', 'why (recorded in the event log)')
    .option('--actor <name>', 'who (default: the OS user)')
    .option('--json', 'print the resulting control state as JSON')
    .action((mode: string, o: { reason: string; actor?: string; json?: boolean }) => {
      if (mode !== 'on' && mode !== 'off')
        throw new UsageError(`proof takes "on" or "off", not "${mode}"`);
      return change(mode === 'on' ? 'proof-on' : 'proof-off', o.reason, o.actor, !!o.json);
    });
}
