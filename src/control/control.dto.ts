import { IsBoolean, IsString, Matches, MaxLength } from 'class-validator';

export class ReasonDto {
  /** Why: recorded in the event metadata for auditors. */
  @IsString()
  @Matches(/\S/, { message: 'reason must not be empty' })
  @MaxLength(1000)
  reason!: string;
}

export class ProofModeDto extends ReasonDto {
  @IsBoolean()
  enabled!: boolean;
}
