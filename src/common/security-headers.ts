import helmet from 'helmet';

/**
 * helmet's defaults (nosniff, HSTS, Referrer-Policy, no X-Powered-By, …) with
 * a Content-Security-Policy that fits the operator UI: everything from our
 * own origin (the bundle has no CDN), `frame-ancestors 'none'` so no other
 * site can frame the controls, and `connect-src` open to the configured
 * backend for a separately deployed UI. The Swagger UI at /docs uses inline
 * styles and scripts, hence 'unsafe-inline' for those two only.
 */
export const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'frame-ancestors': ["'none'"],
      'script-src': ["'self'", "'unsafe-inline'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'connect-src': ["'self'"],
      'upgrade-insecure-requests': null,
    },
  },
  crossOriginEmbedderPolicy: false,
  hsts: false,
});
