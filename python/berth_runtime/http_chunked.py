"""The chunked transfer coding decoder for the worker's HTTP parser (RFC 9112 §7.1), pure.

The same byte-level state machine as src/protocol/http1/chunked-decoder.ts, with the same
limits and verdicts: chunk data is collected, chunk-size lines, extensions and trailers are
checked and dropped (trailers never reach the app, so fields RFC 9110 §6.5.1 forbids there
cannot change framing or routing).  decode() takes bytes as they come and stops after the
final CRLF (done) or at the first error (failure: kind, message)."""

MAX_CHUNK_SIZE_DIGITS = 16
MAX_EXTENSION_BYTES = 16 * 1024
MAX_SAFE_INTEGER = 2 ** 53 - 1

(SIZE, EXT_PRE, EXT, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER_NAME,
 TRAILER_VALUE, TRAILER_LF, END_LF, DONE, FAILED) = range(14)

_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_FIELD_VALUE = frozenset([9] + [c for c in range(0x20, 0x100) if c != 0x7f])
_HEX = dict((c, int(chr(c), 16)) for c in b'0123456789abcdefABCDEF')

# What each failure kind is answered with, as the master answers it.
STATUS_OF = {'bad': 400, 'body-too-large': 413, 'trailers-too-large': 431}


class ChunkedDecoder(object):
    """One chunked body.  max_body: 0 = unlimited (413 past it); trailer_budget: bytes the
    trailer section may take, what the head left of the head limit (431 past it)."""

    def __init__(self, max_body, trailer_budget, max_extension=MAX_EXTENSION_BYTES):
        self.max_body = max_body
        self.max_extension = max_extension
        self.trailer_limit = trailer_budget
        self._trailer_budget = trailer_budget
        self._state = SIZE
        self._remaining = 0
        self._digits = 0
        self._ext_bytes = 0
        self.body_bytes = 0
        self.failure = None

    @property
    def done(self):
        return self._state == DONE

    def decode(self, data, pos, pieces):
        """Decodes data[pos:], appending chunk data to `pieces`; returns where it stopped."""
        end = len(data)
        while pos < end:
            state = self._state
            if state == DATA:
                n = min(self._remaining, end - pos)
                pieces.append(data[pos:pos + n])
                pos += n
                self._remaining -= n
                if self._remaining == 0:
                    self._state = DATA_CR
                continue
            if state >= DONE:
                return pos
            self._step(data[pos])
            pos += 1
        return pos

    def _fail(self, kind, message):
        self._state = FAILED
        self.failure = (kind, message)

    def _step(self, c):
        state = self._state
        if state == SIZE:
            # chunk-size = 1*HEXDIG: no sign, no "0x", no leading whitespace.
            hex_value = _HEX.get(c)
            if hex_value is not None:
                self._digits += 1
                if self._digits > MAX_CHUNK_SIZE_DIGITS:
                    return self._fail('bad', 'chunk-size has too many digits')
                self._remaining = self._remaining * 16 + hex_value
                if self._remaining > MAX_SAFE_INTEGER:
                    return self._fail('bad', 'chunk-size overflows')
            elif self._digits == 0:
                return self._fail('bad', 'chunk-size is not a hex number (RFC 9112 §7.1)')
            elif c == 13:
                self._state = SIZE_LF
            elif c == 59:
                self._state = EXT
            elif c in (32, 9):
                self._state = EXT_PRE
            else:
                return self._fail('bad', 'chunk-size is not a hex number (RFC 9112 §7.1)')
        elif state == EXT_PRE:
            # chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1)
            if c == 59:
                self._state = EXT
            elif c not in (32, 9):
                return self._fail('bad', 'junk after chunk-size (RFC 9112 §7.1.1)')
        elif state == EXT:
            # Extensions are ignored; only their bytes are checked, so no CTL hides a line end.
            self._ext_bytes += 1
            if self._ext_bytes > self.max_extension:
                return self._fail('bad', 'chunk extensions too long')
            if c == 13:
                self._state = SIZE_LF
            elif c not in _FIELD_VALUE:
                return self._fail('bad', 'control character in a chunk extension')
        elif state == SIZE_LF:
            if c != 10:
                return self._fail('bad', 'chunk-size line not ended by CRLF (RFC 9112 §7.1)')
            if self._remaining == 0:
                self._state = TRAILER_START
                return None
            self.body_bytes += self._remaining
            if self.max_body > 0 and self.body_bytes > self.max_body:
                return self._fail('body-too-large', 'chunked body exceeds the body limit of %d bytes' % self.max_body)
            self._state = DATA
        elif state == DATA_CR:
            if c != 13:
                return self._fail('bad', 'chunk-data not followed by CRLF (RFC 9112 §7.1)')
            self._state = DATA_LF
        elif state == DATA_LF:
            if c != 10:
                return self._fail('bad', 'chunk-data not followed by CRLF (RFC 9112 §7.1)')
            self._state = SIZE
            self._digits = 0
        else:
            self._trailer_byte(c)
        return None

    def _trailer_byte(self, c):
        """trailer-section = *( field-line CRLF ) CRLF (RFC 9112 §7.1.2): checked, then dropped."""
        self._trailer_budget -= 1
        if self._trailer_budget < 0:
            return self._fail('trailers-too-large', 'trailers larger than %d bytes' % self.trailer_limit)
        state = self._state
        if state == TRAILER_START:
            if c == 13:
                self._state = END_LF
            elif c in _TOKEN:
                self._state = TRAILER_NAME
            elif c in (32, 9):
                return self._fail('bad', 'obs-fold in the trailer section (RFC 9112 §5.2)')
            else:
                return self._fail('bad', 'invalid trailer field name (RFC 9110 §5.1)')
        elif state == TRAILER_NAME:
            if c == 58:
                self._state = TRAILER_VALUE
            elif c in (32, 9):
                return self._fail('bad', 'whitespace between trailer name and colon (RFC 9112 §5.1)')
            elif c not in _TOKEN:
                return self._fail('bad', 'invalid trailer field name (RFC 9110 §5.1)')
        elif state == TRAILER_VALUE:
            if c == 13:
                self._state = TRAILER_LF
            elif c not in _FIELD_VALUE:
                return self._fail('bad', 'invalid character in a trailer value (RFC 9110 §5.5)')
        elif state == TRAILER_LF:
            if c != 10:
                return self._fail('bad', 'trailer line not ended by CRLF (RFC 9112 §2.2)')
            self._state = TRAILER_START
        else:
            if c != 10:
                return self._fail('bad', 'chunked body not ended by CRLF (RFC 9112 §7.1)')
            self._state = DONE
        return None
