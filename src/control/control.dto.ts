import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

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
