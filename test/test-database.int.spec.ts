import { afterAll, describe, expect, it } from '@jest/globals';
import { createServer, Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM helper shared with global setup
import { chooseTestDatabase, dockerEndpoint, dockerReachable } from './support/test-database.mjs';

/** Which PostgreSQL the suite runs on, and the Docker probe behind the testcontainers choice. */
describe('test database selection', () => {
  it('TEST_DATABASE_URL wins; embedded is the default; testcontainers only when Docker answers', () => {
    expect(chooseTestDatabase({ TEST_DATABASE_URL: 'postgresql://x/y' }, true)).toEqual({
      kind: 'url',
      url: 'postgresql://x/y',
    });
    expect(chooseTestDatabase({}, true)).toEqual({ kind: 'embedded' });
    expect(chooseTestDatabase({ AOL_TEST_POSTGRES: 'embedded' }, true)).toEqual({
      kind: 'embedded',
    });
    expect(chooseTestDatabase({ AOL_TEST_POSTGRES: 'testcontainers' }, true)).toEqual({
      kind: 'testcontainers',
    });
    expect(chooseTestDatabase({ AOL_TEST_POSTGRES: 'testcontainers' }, false)).toEqual({
      kind: 'embedded',
      note: expect.stringMatching(/no Docker engine answers: using the embedded/),
    });
    expect(() => chooseTestDatabase({ AOL_TEST_POSTGRES: 'docker' }, true)).toThrow(
      /AOL_TEST_POSTGRES must be embedded or testcontainers/,
    );
  });

  it('reads DOCKER_HOST (unix:// and tcp://) or the default socket', () => {
    expect(dockerEndpoint({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerEndpoint({ DOCKER_HOST: 'unix:///run/user/1/docker.sock' })).toEqual({
      socketPath: '/run/user/1/docker.sock',
    });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2376' })).toEqual({
      host: '127.0.0.1',
      port: 2376,
    });
  });

  describe('the Docker probe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aol-docker-'));
    const servers: Server[] = [];
    afterAll(async () => {
      for (const s of servers) await new Promise((r) => s.close(r));
    });
    const fakeEngine = async (answer: (path: string) => [number, string]) => {
      const socketPath = join(dir, `docker-${servers.length}.sock`);
      const s = createServer((req, res) => {
        const [status, body] = answer(req.url ?? '');
        res.writeHead(status).end(body);
      });
      servers.push(s);
      await new Promise<void>((r) => s.listen(socketPath, r));
      return `unix://${socketPath}`;
    };

    it('true for an engine that answers GET /_ping with OK (a local fake engine)', async () => {
      const host = await fakeEngine((p) => (p === '/_ping' ? [200, 'OK'] : [404, '']));
      await expect(dockerReachable({ DOCKER_HOST: host })).resolves.toBe(true);
    });

    it('false for no socket, a refused port, or something else answering', async () => {
      await expect(
        dockerReachable({ DOCKER_HOST: `unix://${join(dir, 'none.sock')}` }),
      ).resolves.toBe(false);
      await expect(dockerReachable({ DOCKER_HOST: 'tcp://127.0.0.1:1' })).resolves.toBe(false);
      const teapot = await fakeEngine(() => [418, 'no']);
      await expect(dockerReachable({ DOCKER_HOST: teapot })).resolves.toBe(false);
    });
  });
});
