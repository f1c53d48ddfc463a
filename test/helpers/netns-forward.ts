/**
 * Run as a program inside a network namespace (`ip netns exec NS node netns-forward.js SOCK HOST PORT`):
 * relays each connection on the unix socket SOCK (a file, so the test process outside the
 * namespace can reach it) to HOST:PORT inside the namespace, so the test's HTTP client talks
 * to a front host over that host's own TCP address.
 */
import { connect, createServer } from 'node:net';

const [sock, host, port] = process.argv.slice(2);
if (sock === undefined || host === undefined || port === undefined) {
  process.stderr.write('usage: netns-forward.js SOCKET HOST PORT\n');
  process.exit(2);
}
const server = createServer((client) => {
  const upstream = connect({ host, port: Number(port) });
  client.pipe(upstream).pipe(client);
  // An end on either side is passed on by pipe() once the data before it is written; an error
  // closes both, so the client sees the connection drop as it would at the front itself.
  const drop = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', drop);
  upstream.on('error', drop);
});
server.listen(sock, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
