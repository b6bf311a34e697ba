// Plain ESM: used by global setup (outside Jest's module system) and by a test.
import { request } from 'node:http';

/**
 * Which PostgreSQL the test run uses:
 * - `TEST_DATABASE_URL` set: that server (CI runs the suite against PostgreSQL 15 this way);
 * - `AOL_TEST_POSTGRES=testcontainers`: a throw-away container from
 *   @testcontainers/postgresql, when a Docker engine answers; without one the
 *   run falls back to the embedded server and says so;
 * - otherwise (`AOL_TEST_POSTGRES` unset or `embedded`): the embedded PostgreSQL 18.
 */
export function chooseTestDatabase(env, dockerUp) {
  if (env.TEST_DATABASE_URL) return { kind: 'url', url: env.TEST_DATABASE_URL };
  const wanted = (env.AOL_TEST_POSTGRES ?? 'embedded').trim().toLowerCase();
  if (wanted === 'embedded' || wanted === '') return { kind: 'embedded' };
  if (wanted !== 'testcontainers')
    throw new Error(`AOL_TEST_POSTGRES must be embedded or testcontainers, got "${wanted}"`);
  if (dockerUp) return { kind: 'testcontainers' };
  return {
    kind: 'embedded',
    note: 'AOL_TEST_POSTGRES=testcontainers but no Docker engine answers: using the embedded PostgreSQL instead',
  };
}

/** Where the Docker engine listens: DOCKER_HOST (unix:// or tcp://), else /var/run/docker.sock. */
export function dockerEndpoint(env) {
  const host = env.DOCKER_HOST;
  if (!host) return { socketPath: '/var/run/docker.sock' };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const u = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: u.hostname, port: Number(u.port || 2375) };
}

/** Whether a Docker engine answers `GET /_ping` with OK within `timeoutMs`. */
export function dockerReachable(env, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const req = request({ ...dockerEndpoint(env), path: '/_ping', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'OK'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
