/** The `health-check` value: defaults, every setting, and refusals that say what to write. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { HEALTH_DEFAULTS, isHealthSpecError, parseHealthCheck } from '../../src/config/health-spec.js';

test('a path alone takes the defaults', () => {
  assert.deepEqual(parseHealthCheck('/health/'), { mode: 'request', path: '/health/', ...HEALTH_DEFAULTS });
});

test('every setting, and tcp for connect-only', () => {
  assert.deepEqual(parseHealthCheck('/health/ interval=5s timeout=2s rise=2 fall=3 status=200-399'), {
    mode: 'request', path: '/health/', intervalMs: 5000, timeoutMs: 2000, rise: 2, fall: 3, statusMin: 200, statusMax: 399,
  });
  assert.deepEqual(parseHealthCheck('  /ping?x=1   interval=500ms timeout=250ms rise=1 fall=1 status=204 '), {
    mode: 'request', path: '/ping?x=1', intervalMs: 500, timeoutMs: 250, rise: 1, fall: 1, statusMin: 204, statusMax: 204,
  });
  assert.deepEqual(parseHealthCheck('tcp interval=10s'), { ...HEALTH_DEFAULTS, mode: 'connect', path: '', intervalMs: 10000 });
});

const REFUSED: ReadonlyArray<[string, RegExp]> = [
  ['', /empty/],
  ['health interval=5s', /neither a path nor tcp/],
  ['/h interval=soon', /interval='soon'/],
  ['/h timeout=0s', /positive duration/],
  ['/h rise=0', /rise='0'/],
  ['/h fall=x', /fall='x'/],
  ['/h status=2xx', /status='2xx'/],
  ['/h status=399-200', /status=/],
  ['/h retries=3', /unknown setting 'retries'/],
  ['/h interval=1s timeout=2s', /longer than interval/],
  ['tcp status=200', /tcp only opens/],
];

for (const [value, problem] of REFUSED) {
  test(`refused: '${value}'`, () => {
    const got = parseHealthCheck(value);
    assert.ok(isHealthSpecError(got), 'an error');
    assert.match(got.problem, problem);
    assert.ok(got.fix.length > 10, 'with a fix');
  });
}
