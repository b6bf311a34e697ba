import { Module } from '@nestjs/common';
import { ActionsController } from './actions.controller.js';
import { ActionsService } from './actions.service.js';
import { Db } from '../db/db.js';
import { plainProvider } from '../common/plain-provider.js';
import { CONFIG } from '../common/tokens.js';

@Module({
  controllers: [ActionsController],
  providers: [plainProvider(ActionsService, Db, CONFIG)],
  exports: [ActionsService],
})
export class ActionsModule {}
