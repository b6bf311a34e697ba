import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { ACTION_TYPES } from '../actions/action-registry.js';
import { MAX_CATCH_UP, MISSED_FIRE_POLICIES } from './schedule.decider.js';

/**
 * POST /schedules. The shapes are checked here; the meaning (cron, zone,
 * payload for its action type, policy) by SchedulesService.create, which
 * reports every problem at once as field messages.
 */
export class CreateScheduleDto {
  @ApiProperty({
    example: '0 9 * * 1-5',
    description: 'five fields: minute hour day-of-month month day-of-week (cron-parser syntax)',
  })
  @IsString({ message: 'cron must be a string' })
  @MaxLength(200)
  cron!: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', description: 'IANA time zone; default UTC' })
  @IsOptional()
  @IsString({ message: 'time_zone must be a string' })
  @MaxLength(64)
  time_zone?: string;

  @ApiProperty({ enum: ACTION_TYPES, example: 'HTTP_WEBHOOK' })
  @IsString({ message: 'action_type must be a string' })
  @MaxLength(64)
  action_type!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { url: 'https://example.com/hook', body: { campaign: 42 } },
    description: 'validated per action type, exactly as POST /actions validates it',
  })
  @IsObject({ message: 'payload must be a JSON object' })
  payload!: Record<string, unknown>;

  @ApiPropertyOptional({
    enum: MISSED_FIRE_POLICIES,
    description:
      'after downtime: skip (fire times more than 60 s late are recorded as missed) or catch_up (the latest catch_up_max due fire times fire); default skip',
  })
  @IsOptional()
  @IsIn(MISSED_FIRE_POLICIES, {
    message: `missed_fires must be one of ${MISSED_FIRE_POLICIES.join(', ')}`,
  })
  missed_fires?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CATCH_UP, example: 3 })
  @IsOptional()
  @IsInt({ message: 'catch_up_max must be an integer' })
  catch_up_max?: number;

  @ApiPropertyOptional({ example: 'weekday morning digest' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

export class ListSchedulesDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'include deleted schedules' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'all must be true or false' })
  all?: string;
}
