import { SetMetadata } from '@nestjs/common';
import type { Role } from './tokens.js';

export const PUBLIC = 'aol:public';
export const ROLE = 'aol:role';
export const DANGEROUS = 'aol:dangerous';

/**
 * No token needed (health, the UI's static files). Everything else needs one.
 * With `unlessQuery`, the route is public only without that query parameter
 * (`/health/aol` is public, `/health/aol?at=` a viewer's replay).
 */
export const Public = (opts?: { unlessQuery: string }) => SetMetadata(PUBLIC, opts ?? true);

/** The least role a route needs. */
export const RequireRole = (role: Role) => SetMetadata(ROLE, role);

/** A dangerous operation (proof off, its approval, lease force release): refused from the UI unless AICMO_ENABLE_DANGEROUS_UI_OPS=1. */
export const Dangerous = () => SetMetadata(DANGEROUS, true);
