import { IsOptional, IsString, Matches } from 'class-validator';
import { BoundedInt } from '../common/bounded.js';

export class EventsQueryDto {
  @IsOptional()
  @BoundedInt('after')
  after?: number;

  @IsOptional()
  @BoundedInt('limit', { min: 1, max: 1000n })
  limit?: number;

  @IsOptional()
  @IsString()
  @Matches(/^(control|lease|tick|action:\d+)$/, {
    message: 'stream must be control, lease, tick or action:<id>',
  })
  stream?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z]{1,64}$/, { message: 'type must be an event type name' })
  type?: string;
}

export class StreamQueryDto {
  @IsOptional()
  @BoundedInt('after')
  after?: number;

  @IsOptional()
  @IsString()
  @Matches(/^(control|lease|tick|action:\d+)$/, {
    message: 'stream must be control, lease, tick or action:<id>',
  })
  stream?: string;

  /** EventSource can't send headers; the auth guard reads this. */
  @IsOptional()
  @IsString()
  access_token?: string;
}

export class StateQueryDto {
  @IsOptional()
  @IsString()
  at?: string;
}
