/**
 * The option rows of observability (issue 13): uWSGI's stats server, Prometheus metrics and
 * the redaction of in-flight requests. Same row shape as options.ts, kept apart so each table
 * stays readable.
 */
import { rowsIn, type OptionSpec } from './option-spec.js';

const row = rowsIn('Logging');

export const STATS_OPTIONS: readonly OptionSpec[] = [
  row({
    name: 'stats', aliases: ['stats-server'], type: 'address', field: 'stats',
    help: "Serve uWSGI's stats document (JSON, read by uwsgitop, uwsgi_exporter, netdata, berth top) on this address: host:port, :port or a unix socket path. Each connection gets one document, then EOF. An address beyond loopback is reported at start (anyone who can reach it reads the document). See docs/observability.md.",
  }),
  row({
    name: 'stats-http', type: 'bool', default: 'false', field: 'statsHttp',
    help: 'Speak HTTP on the stats address: GET / answers the JSON document (Content-Type: application/json), GET /metrics the Prometheus text format, /dashboard the live page.',
  }),
  row({
    name: 'stats-minified', aliases: ['stats-min'], type: 'bool', default: 'false', field: 'statsMinified',
    help: 'Write the stats document on one line instead of one key per line.',
  }),
  row({
    name: 'stats-no-cores', type: 'bool', default: 'false', field: 'statsNoCores',
    help: "Leave each worker's cores (threads) out of the stats document.",
  }),
  row({
    name: 'metrics', type: 'address', field: 'metrics', berthOnly: true,
    help: 'Serve Prometheus metrics at /metrics on their own address (host:port, :port or a unix socket path), apart from the stats server.',
  }),
  row({
    name: 'stats-redact', type: 'string', repeatable: true, field: 'statsRedact', berthOnly: true,
    help: 'A request header (name) whose value the stats document never shows for in-flight requests; Cookie, Authorization and Proxy-Authorization always are hidden.',
  }),
  row({
    name: 'stats-show-secrets', type: 'bool', default: 'false', field: 'statsShowSecrets', berthOnly: true,
    help: 'Show the always-hidden headers and the masked config values in the stats document (for a debugging session on a private address only).',
  }),
];
