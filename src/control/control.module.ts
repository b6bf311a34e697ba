import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ChangeControlHandler } from './control.commands.js';
import { ControlController } from './control.controller.js';
import { ControlService } from './control.service.js';
import { Db } from '../db/db.js';
import { CONFIG } from '../common/tokens.js';
import { plainProvider } from '../common/plain-provider.js';

@Module({
  imports: [CqrsModule],
  controllers: [ControlController],
  providers: [plainProvider(ControlService, Db, CONFIG), ChangeControlHandler],
  exports: [ControlService],
})
export class ControlModule {}
