"""Who the client is behind trusted proxies: the master's forwarded-allow-ips rule (src/server/forwarded.ts) for the direct HTTP path.

The same rule as the master's, so a request a worker serves itself gets the REMOTE_ADDR,
REMOTE_PORT and wsgi.url_scheme the master would give it (test/fixtures/conformance/
forwarded.json runs both).  Only a peer in forwarded-allow-ips may speak for the client.  The
hop list (Forwarded's for= elements, else X-Forwarded-For's entries) is walked from the
right: a trusted hop is stepped over, the first untrusted one is the client, the leftmost
if all are trusted; a hop that is not an address stops the walk and the peer stays the
client.  The scheme is the client's hop's proto (http or https only).  An untrusted peer's
fields are left to the app as HTTP_X_FORWARDED_* and nothing else changes."""

import ipaddress
import re

_BRACKET = re.compile(r'\[([^\]]+)\](?::([0-9]{1,5}))?\Z')
_V4_PORT = re.compile(r'([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+):([0-9]{1,5})\Z')
_MAPPED = re.compile(r'::[fF]{4}:([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)\Z')
_UNQUOTE = re.compile(r'\\(.)')
# What JavaScript's trim() takes off a latin-1 string (str.strip() also takes \x1c-\x1f and \x85).
_WS = ' \t\n\r\x0b\x0c\xa0'
# An IPv6 zone as node:net's isIP accepts it (ipaddress takes any text after '%').
_ZONE = re.compile(r'%[0-9A-Za-z.:-]+\Z')
# Peers judged once each (a proxy's few addresses), and hop addresses parsed once each (a
# client's every request names it again); each cleared when full so that it stays small.
_PEER_CACHE_MAX = 1024
# Only texts this short are remembered: the keys are client-sent, and 1024 keys of a long
# field each would hold megabytes. An address with a zone is well under it; a longer text is
# judged afresh each time.
_CACHED_TEXT_MAX = 256
_parsed = {}


def parse_allow(items):
    """forwarded-allow-ips' entries (already checked by the master) as 'all' or a list of networks."""
    if '*' in items:
        return 'all'
    return [ipaddress.ip_network(item, strict=False) for item in items]


def _address(text):
    """The ipaddress object of `text`, IPv4-mapped IPv6 written ::ffff:a.b.c.d as IPv4 (as cidr.ts), or None."""
    # ipaddress parses in Python, several µs a call: each text once.
    try:
        return _parsed[text]
    except KeyError:
        pass
    address = None
    if '%' not in text or _ZONE.search(text) is not None:
        mapped = _MAPPED.match(text)
        try:
            address = ipaddress.ip_address(mapped.group(1) if mapped else text)
        except ValueError:
            pass
    if len(text) <= _CACHED_TEXT_MAX:
        if len(_parsed) >= _PEER_CACHE_MAX:
            _parsed.clear()
        _parsed[text] = address
    return address


def in_networks(text, nets):
    address = _address(text)
    return address is not None and _within(address, nets)


def _within(address, nets):
    for net in nets:
        if address.version == net.version and address in net:
            return True
    return False


class PeerTrust(object):
    """Whether each peer address may speak for the client, remembered per address."""

    __slots__ = ('trust', 'known', 'clients')

    def __init__(self, trust):
        self.trust = trust
        self.known = {}
        # The client each set of field values names: a client's keep-alive requests repeat them.
        self.clients = {}

    def trusted(self, peer):
        answer = self.known.get(peer)
        if answer is None:
            answer = self.trust == 'all' or peer == '' or in_networks(peer, self.trust)
            if len(self.known) >= _PEER_CACHE_MAX:
                self.known.clear()
            self.known[peer] = answer
        return answer

    def apply(self, env):
        """Sets env's REMOTE_ADDR, REMOTE_PORT and wsgi.url_scheme from the fields of a trusted
        peer, read from env (build_environ joined a repeated field with ', ': the same hops as
        the master's ',', the space stripped with the rest)."""
        # Most requests carry neither field: two dict lookups, not a walk over the fields.
        forwarded = env.get('HTTP_FORWARDED')
        xff = env.get('HTTP_X_FORWARDED_FOR')
        if (forwarded is not None or xff is not None) and self.trusted(env['REMOTE_ADDR']):
            key = (forwarded, xff, env.get('HTTP_X_FORWARDED_PROTO'))
            try:
                client = self.clients[key]
            except KeyError:
                client = _client(forwarded, xff, key[2], self.trust)
                if sum(len(v) for v in key if v is not None) <= _CACHED_TEXT_MAX:
                    if len(self.clients) >= _PEER_CACHE_MAX:
                        self.clients.clear()
                    self.clients[key] = client
            if client is not None:
                env['REMOTE_ADDR'], port, scheme = client
                env['REMOTE_PORT'] = str(port)
                if scheme is not None:
                    env['wsgi.url_scheme'] = scheme


def forwarded_client(headers, trust):
    """(address, port, scheme or None) the fields of `headers` ((lowercase name, value) bytes
    pairs) name for a trusted peer, or None when they name none usably."""
    forwarded = xff = xfp = None
    for name, value in headers:
        if len(name) not in (9, 15, 17):
            continue
        if name == b'forwarded':
            forwarded = value if forwarded is None else forwarded + b',' + value
        elif name == b'x-forwarded-for':
            xff = value if xff is None else xff + b',' + value
        elif name == b'x-forwarded-proto':
            xfp = value if xfp is None else xfp + b',' + value
    return _client(None if forwarded is None else forwarded.decode('latin-1'), None if xff is None else xff.decode('latin-1'),
                   None if xfp is None else xfp.decode('latin-1'), trust)


def _client(forwarded, xff, xfp, trust):
    """forwarded_client() of the three fields' values (str, or None when absent)."""
    if forwarded is not None:
        hops = _forwarded_hops(forwarded)
    elif xff is not None:
        hops = _xff_hops(xff, xfp)
    else:
        return None
    for i in range(len(hops) - 1, -1, -1):
        address, port, proto = hops[i]
        parsed = _address(address)  # once per hop: it is both checked and matched
        if parsed is None:
            return None
        if i > 0 and (trust == 'all' or _within(parsed, trust)):
            continue
        proto = proto.lower() if proto is not None else None
        return address, port, proto if proto in ('http', 'https') else None
    return None


def _xff_hops(xff, xfp):
    addresses = [s.strip(_WS) for s in xff.split(',')]
    protos = [] if xfp is None else [s.strip(_WS) for s in xfp.split(',')]
    hops = []
    for i, text in enumerate(addresses):
        proto = protos[i] if len(protos) == len(addresses) else protos[0] if len(protos) == 1 else None
        hops.append(_node(text) + (proto,))
    return hops


def _forwarded_hops(value):
    """RFC 7239 section 4: elements separated by ',', pairs by ';', values tokens or quoted strings."""
    hops = []
    for element in _split_outside_quotes(value, ','):
        node = ('unknown', 0)
        proto = None
        for pair in _split_outside_quotes(element, ';'):
            eq = pair.find('=')
            if eq < 0:
                continue
            key = pair[:eq].strip(_WS).lower()
            v = pair[eq + 1:].strip(_WS)
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                v = _UNQUOTE.sub(r'\1', v[1:-1])
            if key == 'for':
                node = _node(v)
            elif key == 'proto':
                proto = v
        hops.append(node + (proto,))
    return hops


def _split_outside_quotes(text, sep):
    if '"' not in text:  # the usual value: nothing quoted, so every sep separates (one C call)
        out = text.split(sep)
        return [s for s in (part.strip(_WS) for part in out) if s != '']
    out = []
    start = 0
    quoted = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '\\' and quoted:
            i += 1
        elif c == '"':
            quoted = not quoted
        elif c == sep and not quoted:
            out.append(text[start:i])
            start = i + 1
        i += 1
    out.append(text[start:])
    return [s for s in (part.strip(_WS) for part in out) if s != '']


def _node(text):
    """(address, port): 192.0.2.1, 192.0.2.1:8080, [2001:db8::1]:4711, 2001:db8::1; else the text, not an address."""
    m = _BRACKET.match(text)
    if m:
        return m.group(1), 0 if m.group(2) is None else int(m.group(2))
    m = _V4_PORT.match(text)
    if m:
        return m.group(1), int(m.group(2))
    m = _MAPPED.match(text)
    return (m.group(1) if m else text), 0
