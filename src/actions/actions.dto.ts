import { Type } from 'class-transformer';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { ACTION_STATUSES } from '../events/replay.js';
import { ACTION_TYPES } from './action-registry.js';
import { ValidationError } from '../common/errors.js';

export class EnqueueDto {
  @ApiProperty({ enum: ACTION_TYPES, example: 'HTTP_WEBHOOK' })
  @IsIn(ACTION_TYPES, { message: `action_type must be one of ${ACTION_TYPES.join(', ')}` })
  action_type!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { url: 'https://example.com/hook', body: { campaign: 42 } },
    description: 'validated per action type',
  })
  @IsObject({ message: 'payload must be a JSON object' })
  payload!: Record<string, unknown>;

  @ApiPropertyOptional({
    example: 'campaign-42-hook',
    description: 'the same key again returns the existing action (200)',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'idempotency_key must be printable ASCII without spaces' })
  idempotency_key?: string;

  @ApiPropertyOptional({ example: '2026-12-01T09:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'not_before must be an ISO-8601 time' })
  not_before?: string;
}

export class ListActionsDto {
  @ApiPropertyOptional({ enum: ACTION_STATUSES })
  @IsOptional()
  @IsIn(ACTION_STATUSES, { message: `status must be one of ${ACTION_STATUSES.join(', ')}` })
  status?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  cursor?: number;
}

/** `:id` path parameters: a positive integer, else a 400 (never a 500 from the database). */
export function parseId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1)
    throw new ValidationError('id must be a positive integer');
  return Number(raw);
}
