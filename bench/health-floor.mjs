// The floors under GET /health/aol, for the health benchmark (storage.mjs):
// a bare node:http server — no Express, no Nest, no logging or headers — that
// answers every request with nothing (`none`), `SELECT 1` (`select1`), or the
// statement GET /health/aol runs (`inputs`: aol_health_inputs(), named like
// the API's, through the same pg driver), returning the row as JSON. Started as
// its own process, like the API, so client and server don't share a thread.
// Prints {"port": N} when it listens.
import { createServer } from 'node:http';
import pg from 'pg';

const [url, mode] = process.argv.slice(2);
const statements = {
  none: null,
  select1: { name: 'one', text: 'SELECT 1 AS ok' },
  inputs: { name: 'aol_health_inputs', text: 'SELECT aol_health_inputs() AS h' },
};
if (!url || !(mode in statements)) {
  console.error('usage: node bench/health-floor.mjs DATABASE_URL none|select1|inputs');
  process.exit(2);
}
const statement = statements[mode];
const pool = new pg.Pool({ connectionString: url, max: 4 });

const server = createServer((req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (!statement) return reply(200, '{"status":"ok"}');
  pool.query(statement).then(
    ({ rows }) => reply(200, JSON.stringify(rows[0])),
    (err) => reply(503, JSON.stringify({ status: 'unavailable', reason: err.message })),
  );
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
});
