import { Module } from '@nestjs/common';
import { LeaseController } from './lease.controller.js';
import { LeaseService } from './lease.service.js';
import { Db } from '../db/db.js';
import { plainProvider } from '../common/plain-provider.js';

@Module({
  controllers: [LeaseController],
  providers: [plainProvider(LeaseService, Db)],
  exports: [LeaseService],
})
export class LeaseModule {}
