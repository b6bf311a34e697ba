import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/** The reason every write carries (control, lease, actions); recorded in the event metadata. */
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

export class OptionalReasonDto {
  @ApiPropertyOptional({ example: 'receiver fixed' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
