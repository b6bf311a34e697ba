import { BoundedInt, parseBoundedInt } from '../common/bounded.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { ACTION_STATUSES } from './actions.decider.js';
import { ACTION_TYPES } from './action-registry.js';

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
  @BoundedInt('limit', { min: 1, max: 500n })
  limit?: number;

  @IsOptional()
  @BoundedInt('cursor', { min: 1 })
  cursor?: number;
}

/** `:id` path parameters: a positive integer, else a 400 (never a 500 from the database). */
export function parseId(raw: string): number {
  return parseBoundedInt(raw, 'id', { min: 1 });
}
