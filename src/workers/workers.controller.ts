import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Get } from '@nestjs/common';
import { RequireRole } from '../auth/auth.decorators.js';
import { WorkersReport, WorkersService } from './workers.service.js';

@ApiTags('workers')
@ApiBearerAuth()
@Controller('workers')
export class WorkersController {
  constructor(private readonly workers: WorkersService) {}

  /** Every worker process (active, standby, stopping) and those that died or left in the last day. */
  @RequireRole('viewer')
  @Get()
  list(): Promise<WorkersReport> {
    return this.workers.list();
  }
}
