import { Module } from '@nestjs/common';
import { Db } from '../db/db.js';
import { plainProvider } from '../common/plain-provider.js';
import { WorkersController } from './workers.controller.js';
import { WorkersService } from './workers.service.js';

@Module({
  controllers: [WorkersController],
  providers: [plainProvider(WorkersService, Db)],
  exports: [WorkersService],
})
export class WorkersModule {}
