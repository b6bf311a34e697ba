import { Module } from '@nestjs/common';
import { ControlController } from './control.controller.js';
import { ControlService } from './control.service.js';
import { Db } from '../db/db.js';
import { CONFIG } from '../common/tokens.js';
import { plainProvider } from '../common/plain-provider.js';

@Module({
  controllers: [ControlController],
  providers: [plainProvider(ControlService, Db, CONFIG)],
  exports: [ControlService],
})
export class ControlModule {}
