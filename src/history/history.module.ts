import { Module } from '@nestjs/common';
import { HistoryController } from './history.controller.js';

/** State at any point of the log (replay from snapshots). */
@Module({ controllers: [HistoryController] })
export class HistoryModule {}
