import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ChangeControlHandler } from './control.commands.js';
import { ControlController } from './control.controller.js';
import { ControlService } from './control.service.js';

@Module({
  imports: [CqrsModule],
  controllers: [ControlController],
  providers: [ControlService, ChangeControlHandler],
  exports: [ControlService],
})
export class ControlModule {}
