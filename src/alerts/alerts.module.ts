import {
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { CONFIG } from '../common/tokens.js';
import type { Config } from '../config/config.js';
import { EventNotifier } from '../events/event-notifier.js';
import { VerifyMonitor } from '../events/verify-monitor.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { AlertSender } from './alert-sender.js';
import { configuredChannels } from './channels.js';

/** Runs the built-in notifier in this API process when AOL_ALERT_WEBHOOK_URL or AOL_ALERT_EMAIL is set. */
@Injectable()
export class AlertsRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('alerts');
  readonly sender: AlertSender | undefined;

  constructor(@Inject(CONFIG) config: Config, notifier: EventNotifier, verify: VerifyMonitor) {
    const channels = configuredChannels(config);
    if (channels.length === 0) return;
    this.sender = new AlertSender(config, notifier, verify, (level, msg) =>
      level === 'info' ? this.logger.log(msg) : this.logger.warn(msg),
    );
    this.logger.log(`built-in notifier on (${channels.join(', ')})`);
  }

  onApplicationBootstrap(): void {
    this.sender?.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.sender?.stop();
  }
}

@Module({ imports: [MetricsModule], providers: [AlertsRunner] })
export class AlertsModule {}
