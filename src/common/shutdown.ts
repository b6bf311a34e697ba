import { logger } from './log.js';

/**
 * Run `close` once on SIGTERM, SIGINT or SIGHUP (a closed terminal), then exit
 * 0 (1 if closing failed).
 */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = () => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      (err) => {
        logger('shutdown', process.stderr).error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  process.on('SIGHUP', handler);
}
