import { Module } from '@nestjs/common';
import { LeaseController } from './lease.controller.js';
import { LeaseService } from './lease.service.js';

@Module({ controllers: [LeaseController], providers: [LeaseService], exports: [LeaseService] })
export class LeaseModule {}
