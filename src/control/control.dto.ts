import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import { ACTION_TYPES } from '../actions/action-registry.js';

export class ReasonDto {
  /** Why: recorded in the event metadata for auditors. */
  @ApiProperty({
    example: 'deploy freeze until 14:00',
    description: 'why; recorded in the event metadata',
  })
  @IsString()
  @Matches(/\S/, { message: 'reason must not be empty' })
  @MaxLength(1000)
  reason!: string;
}

export class ProofModeDto extends ReasonDto {
  @ApiProperty({
    example: true,
    description: 'true: proof mode on (immediate); false: off (admin; four-eyes in production)',
  })
  @IsBoolean()
  enabled!: boolean;
}

export class OptionalReasonDto {
  @ApiPropertyOptional({ example: 'receiver fixed' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}

/** POST /control/pause: without action_types and until, the global pause (runbook); with either, a scoped pause. */
export class PauseDto extends ReasonDto {
  @ApiPropertyOptional({
    enum: ACTION_TYPES,
    isArray: true,
    example: ['SEND_EMAIL'],
    description: 'pause only these action types (a scoped pause)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsIn(ACTION_TYPES, {
    each: true,
    message: `action_types must each be one of ${ACTION_TYPES.join(', ')}`,
  })
  action_types?: string[];

  @ApiPropertyOptional({
    example: '2026-12-02T21:30:00Z',
    description: 'end the pause at this time (database clock) with ScopedPauseEnded',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'until must be an ISO 8601 date-time' })
  until?: string;
}

/** POST /control/resume: with pause_id, ends that scoped pause; without, the global resume. */
export class ResumeDto extends ReasonDto {
  @ApiPropertyOptional({ description: 'end this scoped pause (its id from POST /control/pause)' })
  @IsOptional()
  @IsUUID('all', { message: 'pause_id must be a pause id (a UUID)' })
  pause_id?: string;
}
