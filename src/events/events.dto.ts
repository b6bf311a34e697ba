import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { BoundedInt } from '../common/bounded.js';
import { HEARTBEAT_FILTERS } from './event-store.js';
import type { HeartbeatFilter } from './event-store.js';

export class EventsQueryDto {
  @IsOptional()
  @BoundedInt('after')
  after?: number;

  @IsOptional()
  @BoundedInt('limit', { min: 1, max: 1000n })
  limit?: number;

  @IsOptional()
  @IsString()
  @Matches(/^(control|lease|tick|log|schedule|action:\d+)$/, {
    message: 'stream must be control, lease, tick, log, schedule or action:<id>',
  })
  stream?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{1,64}$/, { message: 'type must be an event type name' })
  type?: string;

  /** Heartbeats (idle ticks, renewals): include (default), exclude or only. */
  @IsOptional()
  @IsIn(HEARTBEAT_FILTERS, { message: 'heartbeats must be include, exclude or only' })
  heartbeats?: HeartbeatFilter;
}

export class StreamQueryDto {
  @IsOptional()
  @BoundedInt('after')
  after?: number;

  @IsOptional()
  @IsString()
  @Matches(/^(control|lease|tick|log|schedule|action:\d+)$/, {
    message: 'stream must be control, lease, tick, log, schedule or action:<id>',
  })
  stream?: string;

  /** EventSource can't send headers; the auth guard reads this. */
  @IsOptional()
  @IsString()
  access_token?: string;
}

export class VerifyQueryDto {
  /** An Ed25519 public key as `aol keys generate` prints it (base64url of 32 bytes). */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9+/_ -]{43}=?$/, {
    message: 'public_key must be the public key exactly as `aol keys generate` prints it',
  })
  public_key?: string;

  /** `true`: walk every event (the default). */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'full must be true or false' })
  full?: 'true' | 'false';

  /** `true`: walk only the events after the last checkpoint whose signature verifies (default: every event). */
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'incremental must be true or false' })
  incremental?: 'true' | 'false';
}

export class CheckpointsQueryDto {
  @IsOptional()
  @BoundedInt('after')
  after?: number;
}
