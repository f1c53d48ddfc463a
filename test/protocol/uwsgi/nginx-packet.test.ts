import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccepted, body, heads, packet } from './feed.js';
import { NGINX_CHUNKED_PUT, NGINX_GET, NGINX_POST } from './fixtures.js';

/** vars as a Map (last value wins) for lookups; the flat list keeps order and duplicates. */
function varsOf(vars: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < vars.length; i += 2) map.set(vars[i] as string, vars[i + 1] as string);
  return map;
}

const UWSGI_PARAMS = [
  'QUERY_STRING', 'REQUEST_METHOD', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'REQUEST_URI', 'PATH_INFO', 'DOCUMENT_ROOT',
  'SERVER_PROTOCOL', 'REQUEST_SCHEME', 'REMOTE_ADDR', 'REMOTE_PORT', 'SERVER_PORT', 'SERVER_NAME', 'HTTP_HOST',
];

test('nginx packet: a captured GET has every uwsgi_params var, in order, and no body', () => {
  const events = assertAccepted(NGINX_GET);
  const [head] = heads(events);
  assert.equal(head?.modifier1, 0);
  assert.equal(head?.varsBytes, NGINX_GET.length - 4);
  assert.deepEqual(head?.vars.filter((_, i) => i % 2 === 0).slice(0, UWSGI_PARAMS.length), UWSGI_PARAMS);
  const vars = varsOf(head?.vars ?? []);
  assert.equal(vars.get('REQUEST_METHOD'), 'GET');
  assert.equal(vars.get('CONTENT_LENGTH'), '');
  assert.equal(head?.contentLength, 0);
  assert.equal(vars.get('PATH_INFO'), '/articles/2024/hello-world');
  assert.equal(vars.get('QUERY_STRING'), 'ref=home&x=1');
  assert.equal(vars.get('HTTP_COOKIE'), 'sessionid=abcdef0123456789; csrftoken=0123456789abcdef');
  assert.equal(vars.has('HTTPS'), false, 'HTTPS is if_not_empty: absent on plain HTTP');
  assert.deepEqual(events.map((e) => e.type), ['head', 'end']);
});

test('nginx packet: a captured POST carries exactly CONTENT_LENGTH body bytes', () => {
  const events = assertAccepted(NGINX_POST);
  const [head] = heads(events);
  const vars = varsOf(head?.vars ?? []);
  assert.equal(head?.contentLength, 57);
  assert.equal(vars.get('HTTP_CONTENT_LENGTH'), '57', 'nginx also passes the header itself');
  assert.equal(body(events), 'username=alice&password=s3cret%21&csrfmiddlewaretoken=abc');
});

test('nginx packet: a chunked client body arrives buffered, framed by CONTENT_LENGTH only', () => {
  const events = assertAccepted(NGINX_CHUNKED_PUT);
  const [head] = heads(events);
  const vars = varsOf(head?.vars ?? []);
  assert.equal(head?.contentLength, 18);
  // The header is passed through, but the uwsgi body is not chunked: only CONTENT_LENGTH frames it.
  assert.equal(vars.get('HTTP_TRANSFER_ENCODING'), 'chunked');
  assert.equal(body(events), 'hello chunked body');
});

test('nginx packet: an HTTPS request as nginx builds it (uwsgi_params with HTTPS on)', () => {
  const vars = [
    'QUERY_STRING', 'a=1', 'REQUEST_METHOD', 'POST', 'CONTENT_TYPE', 'application/json', 'CONTENT_LENGTH', '13',
    'REQUEST_URI', '/api/items?a=1', 'PATH_INFO', '/api/items', 'DOCUMENT_ROOT', '/var/www/html',
    'SERVER_PROTOCOL', 'HTTP/2.0', 'REQUEST_SCHEME', 'https', 'HTTPS', 'on', 'REMOTE_ADDR', '2001:db8::7',
    'REMOTE_PORT', '51234', 'SERVER_PORT', '443', 'SERVER_NAME', 'api.example.com', 'HTTP_HOST', 'api.example.com',
    'HTTP_CONTENT_TYPE', 'application/json', 'HTTP_CONTENT_LENGTH', '13', 'HTTP_COOKIE', 'a=b; c=d',
  ];
  const events = assertAccepted(packet(vars, '{"name":"x"}\n'));
  assert.deepEqual(heads(events)[0]?.vars, vars);
  assert.equal(body(events), '{"name":"x"}\n');
});
