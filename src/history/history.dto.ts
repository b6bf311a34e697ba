import { IsOptional, IsString } from 'class-validator';

export class StateQueryDto {
  @IsOptional()
  @IsString()
  at?: string;
}
