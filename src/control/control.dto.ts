import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsOptional,
  IsUUID,
} from 'class-validator';
import { ACTION_TYPES } from '../actions/action-registry.js';
import { ReasonDto } from '../common/reason.dto.js';

export { OptionalReasonDto, ReasonDto } from '../common/reason.dto.js';

export class ProofModeDto extends ReasonDto {
  @ApiProperty({
    example: true,
    description: 'true: proof mode on (immediate); false: off (admin; four-eyes in production)',
  })
  @IsBoolean()
  enabled!: boolean;
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
