/**
 * HTTP dates (RFC 9110 §5.6.7).
 *
 * Theory of operation: the front formats the date at most once per second and passes the
 * string down; this module only formats. Date#toUTCString is specified (ECMA-262
 * §21.4.4.43) to produce exactly IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", for years
 * 0–9999, which covers every clock Berth will run on.
 */

/** IMF-fixdate for a time in milliseconds since the epoch. */
export function imfFixdate(ms: number): string {
  return new Date(ms).toUTCString();
}
