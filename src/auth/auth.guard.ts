import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Config } from '../config/config.js';
import { CONFIG } from '../common/tokens.js';
import { ForbiddenError } from '../common/errors.js';
import { fromUi, type AolRequest } from '../common/request-actor.js';
import { DANGEROUS, PUBLIC, ROLE } from './auth.decorators.js';
import { hasRole, Role, TokenTable } from './tokens.js';

/**
 * Secure by default: every route needs a bearer token with at least the role
 * it declares (admin when it declares none), except routes marked @Public().
 * With no tokens configured, outside production every request is the admin
 * `anonymous` (start-up warns loudly); in production only reads are allowed.
 * `/events/stream` also takes `?access_token=` because EventSource can't send
 * headers.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly tokens: TokenTable;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.tokens = new TokenTable(config.apiTokens);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    const req = ctx.switchToHttp().getRequest<AolRequest>();
    const pub = this.reflector.getAllAndOverride<true | { unlessQuery: string } | undefined>(
      PUBLIC,
      targets,
    );
    if (pub === true || (pub && !(pub.unlessQuery in req.query))) return true;
    const need = this.reflector.getAllAndOverride<Role>(ROLE, targets) ?? 'admin';
    const write = req.method !== 'GET' && req.method !== 'HEAD';

    if (!this.tokens.configured) {
      if (this.config.production && write) {
        throw new ForbiddenError(
          'writes are refused: no AOL_API_TOKENS are configured in production',
        );
      }
      req.principal = { name: 'anonymous', role: 'admin' };
    } else {
      const token = bearer(req) ?? (req.path === '/events/stream' ? queryToken(req) : undefined);
      if (!token)
        throw new UnauthorizedException(
          'a bearer token is required (Authorization: Bearer <token>)',
        );
      const principal = this.tokens.verify(token);
      if (!principal) throw new UnauthorizedException('unknown token');
      req.principal = principal;
      if (!hasRole(principal.role, need))
        throw new ForbiddenError(
          `this needs the ${need} role; ${principal.name} is ${principal.role}`,
        );
    }
    if (this.reflector.getAllAndOverride<boolean>(DANGEROUS, targets))
      assertDangerousAllowed(req, this.config);
    return true;
  }
}

export function assertDangerousAllowed(req: AolRequest, config: Config): void {
  if (fromUi(req) && !config.dangerousUiOps) {
    throw new ForbiddenError(
      'dangerous operations are disabled in the UI (AICMO_ENABLE_DANGEROUS_UI_OPS is not 1)',
    );
  }
}

function bearer(req: AolRequest): string | undefined {
  const h = req.header('authorization');
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

function queryToken(req: AolRequest): string | undefined {
  const t = req.query.access_token;
  return typeof t === 'string' && t ? t : undefined;
}
