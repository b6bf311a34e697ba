#!/usr/bin/env node
import { startApi } from './api.js';
import { loadConfig } from './config/config.js';
import { onShutdown } from './common/shutdown.js';
import { logger } from './common/log.js';

/** `node dist/main.js`: the API process. */
try {
  const api = await startApi(loadConfig());
  onShutdown(() => api.close());
} catch (err) {
  logger('api', process.stderr).fatal(`aol api: ${(err as Error).message}`);
  process.exit(1);
}
