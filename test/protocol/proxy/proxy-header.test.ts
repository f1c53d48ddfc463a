/** PROXY protocol v1/v2 decoding: valid and invalid tables, fed whole, byte by byte, and with trailing bytes. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeProxyHeader, encodeProxyV1 } from '../../../src/protocol/proxy/proxy-header.js';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(verCmd: number, fam: number, addrs: number[], tlv: number[] = []): Buffer {
  const body = Buffer.from([...addrs, ...tlv]);
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = fam;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

const V4_ADDRS = [192, 0, 2, 1, 198, 51, 100, 2, 0xdc, 0x04, 0x01, 0xbb];
const V6_ADDRS = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, ...new Array<number>(15).fill(0), 2, 0x11, 0x5c, 0x00, 0x50];

const VALID: ReadonlyArray<[string, Buffer, { version: 1 | 2; client: { address: string; port: number } | null }]> = [
  ['v1 TCP4', Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n'), { version: 1, client: { address: '192.0.2.1', port: 56324 } }],
  ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 4444 80\r\n'), { version: 1, client: { address: '2001:db8::1', port: 4444 } }],
  ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n'), { version: 1, client: null }],
  ['v1 UNKNOWN with addresses', Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'), { version: 1, client: null }],
  ['v2 PROXY TCP4', v2(0x21, 0x11, V4_ADDRS), { version: 2, client: { address: '192.0.2.1', port: 56324 } }],
  ['v2 PROXY TCP4 with a TLV', v2(0x21, 0x11, V4_ADDRS, [0x04, 0x00, 0x02, 0xab, 0xcd]), { version: 2, client: { address: '192.0.2.1', port: 56324 } }],
  ['v2 PROXY TCP6', v2(0x21, 0x21, V6_ADDRS), { version: 2, client: { address: '2001:db8::1', port: 4444 } }],
  ['v2 LOCAL', v2(0x20, 0x00, []), { version: 2, client: null }],
  ['v2 PROXY UNSPEC', v2(0x21, 0x00, []), { version: 2, client: null }],
];

for (const [name, bytes, want] of VALID) {
  test(`valid: ${name}, whole, byte by byte and with the request after it`, () => {
    const whole = decodeProxyHeader(bytes);
    assert.deepEqual(whole, { kind: 'header', consumed: bytes.length, ...want });
    for (let n = 0; n < bytes.length; n++) assert.deepEqual(decodeProxyHeader(bytes.subarray(0, n)), { kind: 'need-more' }, `${n} bytes`);
    const withRequest = Buffer.concat([bytes, Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
    assert.deepEqual(decodeProxyHeader(withRequest), { kind: 'header', consumed: bytes.length, ...want });
  });
}

const INVALID: ReadonlyArray<[string, Buffer, RegExp]> = [
  ['plain HTTP', Buffer.from('GET / HTTP/1.1\r\n'), /does not start with a PROXY/],
  ['v1 lower case', Buffer.from('proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n'), /does not start/],
  ['v1 UDP4', Buffer.from('PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n'), /family 'UDP4'/],
  ['v1 bad address', Buffer.from('PROXY TCP4 1.2.3.256 1.2.3.4 1 2\r\n'), /not TCP4 addresses/],
  ['v1 IPv6 in TCP4', Buffer.from('PROXY TCP4 ::1 ::1 1 2\r\n'), /not TCP4 addresses/],
  ['v1 bad port', Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n'), /ports/],
  ['v1 leading zero port', Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n'), /ports/],
  ['v1 missing field', Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n'), /6 fields/],
  ['v1 too long', Buffer.from(`PROXY TCP4 ${'1'.repeat(110)}`), /longer than 107/],
  ['v2 version 1', v2(0x11, 0x11, V4_ADDRS), /version 1 is not 2/],
  ['v2 command 2', v2(0x22, 0x11, V4_ADDRS), /command 2/],
  ['v2 short IPv4', v2(0x21, 0x11, [1, 2, 3]), /need 12 bytes/],
  ['v2 short IPv6', v2(0x21, 0x21, V4_ADDRS), /need 36 bytes/],
  ['v2 bad family', v2(0x21, 0x44, V4_ADDRS), /family byte 0x44/],
];

for (const [name, bytes, reason] of INVALID) {
  test(`invalid: ${name}`, () => {
    const r = decodeProxyHeader(bytes);
    assert.equal(r.kind, 'invalid');
    assert.match((r as { reason: string }).reason, reason);
  });
}

test('v2 too large is refused from its length alone', () => {
  const head = Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
  assert.equal(decodeProxyHeader(head).kind, 'invalid');
});

test('encodeProxyV1 writes what decodeProxyHeader reads', () => {
  const line = encodeProxyV1({ address: '203.0.113.9', port: 5555 }, { address: '127.0.0.1', port: 80 });
  assert.equal(line.toString(), 'PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n');
  assert.deepEqual(decodeProxyHeader(line), { kind: 'header', version: 1, consumed: line.length, client: { address: '203.0.113.9', port: 5555 } });
  assert.equal(encodeProxyV1(null, null).toString(), 'PROXY UNKNOWN\r\n');
});
