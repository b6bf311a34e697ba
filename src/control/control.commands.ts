import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor } from '../common/actor.js';
import { ControlChange } from './control.decider.js';
import { ControlResult, ControlService } from './control.service.js';

/** One command for every flag change; the decider tells them apart. */
export class ChangeControlCommand extends Command<ControlResult> {
  constructor(
    readonly change: ControlChange,
    readonly reason: string,
    readonly actor: Actor,
    readonly ifMatch?: number,
  ) {
    super();
  }
}

@CommandHandler(ChangeControlCommand)
export class ChangeControlHandler implements ICommandHandler<ChangeControlCommand, ControlResult> {
  constructor(private readonly control: ControlService) {}

  execute(cmd: ChangeControlCommand): Promise<ControlResult> {
    return this.control.change(cmd.change, cmd.reason, cmd.actor, cmd.ifMatch);
  }
}
