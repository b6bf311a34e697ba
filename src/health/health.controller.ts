import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Db } from '../db/db.js';

@Controller('health')
export class HealthController {
  constructor(private readonly db: Db) {}

  /** 200 when the process and the database answer; 503 with the reason when the database does not. */
  @Get()
  async health(
    @Res({ passthrough: true }) res: Response,
  ): Promise<{ status: string; reason?: string }> {
    try {
      await Promise.race([
        this.db.query('SELECT 1'),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('database did not answer within 3s')), 3000).unref(),
        ),
      ]);
      return { status: 'ok' };
    } catch (err) {
      res.status(503);
      return { status: 'unavailable', reason: `database unreachable: ${dbReason(err)}` };
    }
  }
}

/** A database error without anything secret in it (no URL, no password). */
export function dbReason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (e.code === '57P01' || e.code === '57P03') return 'database is shutting down or starting up';
  const msg = e.message ?? 'unknown error';
  return msg.replace(/postgres(ql)?:\/\/\S+/g, '<database url>');
}
