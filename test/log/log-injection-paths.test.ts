/**
 * Nothing from the peer reaches the log raw (issue 11, item 4), through real Berth and workers,
 * path by path and in the text and JSON shapes: the HTTP front, the uwsgi front through the
 * master, requests the workers served themselves (uwsgi-direct's DIRECT records), connections a
 * worker relayed to the master, and Berth's warnings that quote a peer (a var's key, a
 * CONTENT_LENGTH). Each hostile value carries CR/LF and a whole forged line in both shapes.
 */
import { sendUntilClose } from '../helpers/raw-http.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { echoBerths } from '../helpers/berth.js';
import { eventually } from '../helpers/nginx.js';
import { encodeUwsgiRequest } from '../../src/protocol/uwsgi/client.js';

const berth = echoBerths();

const FORGED_TEXT = '[pid: 1|worker: 1|req: 1/1] 6.6.6.6 () {1 vars in 1 bytes} [x] GET /admin => generated 1 bytes in 1 msecs (HTTP/1.1 200)';
const FORGED_JSON = '{"time":"x","addr":"6.6.6.6","method":"GET","uri":"/admin","status":200}';
const INJECTED = `\r\n${FORGED_TEXT}\r\n${FORGED_JSON}\r\n`;

/** No line of the log begins as a forged one, and no raw control or line separator is in it. */
function assertNotForged(log: string): void {
  for (const line of log.split('\n')) {
    assert.ok(!line.startsWith('[pid: 1|worker: 1|req: 1/1] 6.6.6.6') && !line.startsWith('{"time":"x"'), `forged line in the log:\n${log}`);
  }
  assert.doesNotMatch(log.replace(/\n/g, ''), /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]/, `raw control character in the log:\n${JSON.stringify(log)}`);
}

const send = (port: number, data: Buffer): Promise<string> => sendUntilClose(port, data);

function hostilePacket(marker: string, modifier2 = 0): Buffer {
  return encodeUwsgiRequest([
    'REQUEST_METHOD', 'GET', 'REQUEST_URI', `/environ/${marker}${INJECTED}`, 'PATH_INFO', `/environ/${marker}`, 'QUERY_STRING', '',
    'SERVER_PROTOCOL', 'HTTP/1.1', 'REMOTE_ADDR', `10.0.0.1${INJECTED}`, 'HTTP_HOST', 'site', 'HTTP_USER_AGENT', `ua${INJECTED}`,
  ], 0, modifier2);
}

/** A packet whose last var's key carries a forged line and whose value runs past the block. */
function hostileKeyPacket(): Buffer {
  const key = Buffer.from(`K${INJECTED}`, 'latin1');
  const vars = Buffer.concat([Buffer.from([key.length & 0xff, key.length >> 8]), key, Buffer.from([0xff, 0x00]), Buffer.from('v')]);
  return Buffer.concat([Buffer.from([0, vars.length & 0xff, vars.length >> 8, 0]), vars]);
}

function badContentLengthPacket(): Buffer {
  return encodeUwsgiRequest(['REQUEST_METHOD', 'POST', 'REQUEST_URI', '/', 'PATH_INFO', '/', 'CONTENT_LENGTH', `5${INJECTED}`]);
}

const FORMATS = [
  ['text', ['--log-format', '%(addr) %(method) %(uri) %(uagent) %(status)']],
  ['default', []],
  ['json', ['--log-json']],
] as const;

for (const [shape, logArgs] of FORMATS) {
  test(`uwsgi front through the master (${shape}): vars, keys and CONTENT_LENGTH do not forge lines`, async () => {
    const b = await berth(['--socket', '127.0.0.1:0', '--uwsgi-direct=false', ...logArgs]);
    assert.match(await send(b.port, hostilePacket('via-master')), /^HTTP\/1\.[01] 200/);
    assert.match(await send(b.port, hostileKeyPacket()), /^HTTP\/1\.[01] 400/);
    assert.match(await send(b.port, badContentLengthPacket()), /^HTTP\/1\.[01] 400/);
    await eventually(b.logs, /via-master/);
    await eventually(b.logs, /bad uwsgi packet[^\n]*value of K/);
    await eventually(b.logs, /bad uwsgi packet[^\n]*CONTENT_LENGTH '5/);
    assertNotForged(b.logs());
  });

  test(`uwsgi-direct: requests the workers served and connections they relayed (${shape}) do not forge lines`, async () => {
    const b = await berth(['--socket', '127.0.0.1:0', ...logArgs]);
    assert.match(b.logs(), /uwsgi-direct/);
    assert.match(await send(b.port, hostilePacket('served-direct')), /^HTTP\/1\.[01] 200/);
    // modifier2 ≠ 0: a worker relays the connection to the master, which serves it.
    assert.match(await send(b.port, hostilePacket('relayed', 1)), /^HTTP\/1\.[01] 200/);
    assert.match(await send(b.port, badContentLengthPacket()), /^HTTP\/1\.[01] 400/);
    await eventually(b.logs, /served-direct/);
    await eventually(b.logs, /relayed/);
    await eventually(b.logs, /bad uwsgi packet[^\n]*CONTENT_LENGTH '5/);
    assertNotForged(b.logs());
  });

  test(`HTTP front (${shape}): header bytes that decode to NEL or U+2028 do not reach the log raw`, async () => {
    const b = await berth(['--http', '127.0.0.1:0', ...logArgs]);
    const head = Buffer.concat([
      Buffer.from('GET /environ/http-front HTTP/1.1\r\nHost: site\r\nUser-Agent: ua'),
      Buffer.from('\xc2\x85\xe2\x80\xa8\xc2\x9b31m', 'latin1'),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]);
    assert.match(await send(b.port, head), /^HTTP\/1\.1 200/);
    await eventually(b.logs, /http-front/);
    assertNotForged(b.logs());
  });
}
