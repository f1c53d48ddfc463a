/** The option rows of the reverse proxy (issue 14): upstream groups and proxy-pass routes. */
import type { OptionSpec } from './option-spec.js';

export const PROXY_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'upstream', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'upstreams', group: 'Application', berthOnly: true,
    help: "A group of backends to proxy to, best written as an ini section: '[upstream:api]' with 'server = http://127.0.0.1:9001 weight=5 max_fails=3 fail_timeout=10s' (also uwsgi://host:port, http:///run/app.sock, uwsgi:///run/app.sock; flags backup, down), 'balance = round-robin', 'proxy-next-upstream = error timeout http_502 http_503 http_504', 'connect-timeout = 5s', 'read-timeout = 60s', 'via = off' (no Via field added; on by default, RFC 9110 §7.6.3). On the command line: --upstream 'api server=http://127.0.0.1:9001'. See docs/proxy.md.",
  },
  {
    name: 'proxy-pass', aliases: [], type: 'string', repeatable: true, status: 'supported', field: 'proxyRoutes', group: 'Application', berthOnly: true,
    help: "Send requests below a prefix to an upstream group: 'proxy-pass = /api=api', or for one host 'proxy-pass = admin.example.com/=api' (exact host, or *.example.com). A URI part after the group replaces the prefix as nginx's proxy_pass http://b/v1/ does: 'proxy-pass = /api/=api/v1/'. '=/path' routes that exact path only (nginx location =) and is tried before every prefix. The longest prefix wins, static-map included; the rest goes to the app. With only proxy-pass routes and no module or wsgi-file, Berth is a pure front and starts no Python (unmatched paths get 404). See docs/proxy.md.",
  },
];
