import { Module } from '@nestjs/common';
import { EventsController } from './events.controller.js';
import { SseRelays } from './sse-relay.js';
import { plainProvider } from '../common/plain-provider.js';
import { Db } from '../db/db.js';
import { EventNotifier } from './event-notifier.js';
import { CONFIG } from '../common/tokens.js';

@Module({
  controllers: [EventsController],
  providers: [plainProvider(SseRelays, Db, EventNotifier, CONFIG)],
})
export class EventsModule {}
