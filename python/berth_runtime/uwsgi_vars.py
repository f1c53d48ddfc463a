"""The uwsgi packet of a direct connection: packet head and vars block parsing.

Its head, the vars block parsed as the master's parser does (src/protocol/uwsgi/; both run
test/fixtures/conformance/uwsgi-vars.json), the body length it announces, and which peers
count as local."""

import re
import struct

from .responses import MAX_SAFE_INTEGER

UWSGI_PACKET_HEAD = struct.Struct('<BHB')
DIGITS = re.compile(r'[0-9]{1,16}\Z')


def is_loopback(addr):
    return addr.startswith('127.') or addr == '::1' or addr.startswith('::ffff:127.')


def parse_uwsgi_vars(data, start, end, out):
    """The vars of data[start:end] laid over `out` (peer keys starting with wsgi. are dropped),
    or None when the block is not what the master's parser accepts (a length past the end, an
    empty key, a NUL): then the master decides.

    The hottest loop of a direct request, so a pair costs two index reads per length and two
    slices of the block decoded once.  The checks come after the loop, once for the block:
    - a length past the end raises IndexError mid-pair or leaves the end overshot;
    - a repeated key shows as fewer bytes in the dict than in the block (the earlier pair is
      missing whole), and such a block takes the careful loop;
    - NULs are looked for in the keys and the values joined, one C-level scan each."""
    block = data[start:end]
    text = block.decode('latin-1')
    n = end - start
    pairs = {}
    i = 0
    try:
        while True:
            j = i + 2 + (block[i] | block[i + 1] << 8)
            key = text[i + 2:j]
            i = j + 2 + (block[j] | block[j + 1] << 8)
            pairs[key] = text[j + 2:i]
    except IndexError:
        pass  # at the end (i == n) or in a truncated pair
    if i != n or '' in pairs:
        return None
    keys = ''.join(pairs)
    values = ''.join(pairs.values())
    if len(keys) + len(values) + 4 * len(pairs) != n:
        return parse_uwsgi_vars_carefully(block, text, out)
    if '\0' in keys or '\0' in values:
        return None
    if 'wsgi.' in keys:
        for key in [k for k in pairs if k.startswith('wsgi.')]:
            del pairs[key]
    out.update(pairs)
    return out


def parse_uwsgi_vars_carefully(block, text, out):
    """parse_uwsgi_vars pair by pair.  A repeated HTTP_* key is one client field sent on several
    lines (nginx before 1.23 passes each line as a var): its values are joined in order, Cookie
    with "; " (RFC 9110 section 5.3, RFC 6265 section 5.4).  Any other repeated key is a
    parameter set twice: the last wins, unless it is a CONTENT_LENGTH that disagrees."""
    n = len(block)
    seen_length = None
    seen_headers = set()
    i = 0
    while i < n:
        if n - i < 4:
            return None
        klen = block[i] | block[i + 1] << 8
        i += 2
        if klen == 0 or klen + 2 > n - i:
            return None
        j = i + klen
        key = text[i:j]
        vlen = block[j] | block[j + 1] << 8
        i = j + 2
        j = i + vlen
        if j > n:
            return None
        value = text[i:j]
        i = j
        if '\0' in key or '\0' in value:
            return None
        if key.startswith('wsgi.'):
            continue
        if key == 'CONTENT_LENGTH':
            # One decimal value spelt twice ('3', '03') is one framing (RFC 9110 section 8.6).
            if seen_length is not None and seen_length != value and not (
                    DIGITS.match(seen_length) and DIGITS.match(value) and int(seen_length) == int(value)):
                return None
            seen_length = value
        if key[:5] == 'HTTP_':
            if key in seen_headers:
                value = out[key] + ('; ' if key == 'HTTP_COOKIE' else ', ') + value
            else:
                seen_headers.add(key)
        out[key] = value
    return out


def packet_content_length(vars_):
    """The body length a packet's CONTENT_LENGTH announces (absent or empty: 0), or None when
    the master's parser would refuse it: ASCII digits only, at most 2^53-1 (RFC 9110 section 8.6)."""
    raw_length = vars_.get('CONTENT_LENGTH', '')
    if not raw_length:
        return 0
    if not DIGITS.match(raw_length) or int(raw_length) > MAX_SAFE_INTEGER:
        return None
    return int(raw_length)
