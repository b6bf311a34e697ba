import { Module } from '@nestjs/common';
import { Db } from '../db/db.js';
import { plainProvider } from '../common/plain-provider.js';
import { CONFIG } from '../common/tokens.js';
import { SchedulesController } from './schedules.controller.js';
import { SchedulesService } from './schedules.service.js';

@Module({
  controllers: [SchedulesController],
  providers: [plainProvider(SchedulesService, Db, CONFIG)],
})
export class SchedulesModule {}
