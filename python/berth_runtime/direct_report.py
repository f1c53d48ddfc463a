"""DIRECT frames: what the direct path served and is running, for the master.

What the direct path tells the master: DIRECT frames with the running requests (harakiri),
the served count (max-requests) and one record per request its access log keeps.  A frame
goes out once a second while anything changed, and as soon as a record waits: at once when
no frame went out in the last DIRECT_FLUSH_S, else DIRECT_FLUSH_S after the last one (or at
DIRECT_LOG_BATCH records).  So an idle worker's request is in the access log right after it
ends, a busy worker's within about DIRECT_FLUSH_S, and a busy worker sends at most about
1 / DIRECT_FLUSH_S frames a second: the serving threads only wake the report thread, once
per batch."""

import json
import struct
import threading
import time

from .direct_request import TIMEOUT_TEXT
from .wire import DIRECT, U32, frame

# status u16, bytes sent u64, duration micros u32, end (wall clock ms) f64, modifier1 u8,
# vars block length u32; then the vars block exactly as the peer sent it.
DIRECT_RECORD = struct.Struct('<HQIdBI')
DIRECT_REPORT_S = 1.0
DIRECT_FLUSH_S = 0.02
DIRECT_LOG_BATCH = 128


class DirectReport(object):
    """The direct server's counters, running requests and access-log records."""

    def __init__(self, dcfg, threads, channel_send):
        self.threads = threads
        self.channel_send = channel_send
        self.log_all = dcfg['log_all']
        self.log_4xx = dcfg['log_4xx']
        self.slow_us = dcfg['slow_ms'] * 1000 if dcfg['slow_ms'] > 0 else float('inf')
        self.served = 0
        self.running = {}  # thread ident -> (monotonic start, DirectRequest)
        self.records = []
        self.lock = threading.Lock()  # guards records and served
        self.reported = ()  # requests the last report listed as running
        self.waiting = threading.Event()  # set by the first record of a batch
        self.last_report = 0.0  # monotonic

    def done(self, req, started, data, size, modifier1, at=4):
        """A request finished: count it, correct a report that listed it, keep its record (its
        vars block is data[at:at + size] after the uwsgi packet head, or what data() returns for
        HTTP, which builds it only for a record that is kept)."""
        micros = int((time.monotonic() - started) * 1e6)
        status = req.code if req.head_sent else 0
        if self.threads == 1:
            self.served += 1  # the only writer; the report thread only reads it
        else:
            with self.lock:
                self.served += 1
        if req in self.reported:
            self.report()  # the master believes it still runs (harakiri): correct that now
        if self.log_all or status >= 500 or (self.log_4xx and 400 <= status < 500) or micros >= self.slow_us:
            block = data() if callable(data) else data[at:at + size]
            record = DIRECT_RECORD.pack(status, req.sent, min(micros, 0xFFFFFFFF), time.time() * 1000.0,
                                        modifier1, len(block)) + block
            with self.lock:
                self.records.append(record)
                waiting = len(self.records)
            if waiting == 1:
                self.waiting.set()
            elif waiting >= DIRECT_LOG_BATCH:
                self.report()

    def report_loop(self):
        last = None
        waiting = self.waiting
        while True:
            if waiting.wait(DIRECT_REPORT_S):
                waiting.clear()
                pause = self.last_report + DIRECT_FLUSH_S - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # a busy worker: the records of this pause share a frame
                if self.records:  # a full batch may have gone out meanwhile
                    self.report()
                continue
            state = (self.served, len(self.records), tuple(self.running))
            if state != last or self.running:
                self.report()
                last = state

    def report(self):
        """One DIRECT frame: {served, running: [[seconds, method, uri], ...]} and the records."""
        now = self.last_report = time.monotonic()
        running = []
        current = list(self.running.values())
        self.reported = tuple(req for _, req in current)
        for started, req in current:
            env = req.env
            running.append([now - started, env.get('REQUEST_METHOD', ''), env.get('REQUEST_URI') or env.get('PATH_INFO', '')])
        with self.lock:
            records, self.records = self.records, []
            served = self.served
        meta = json.dumps({'served': served, 'running': running}).encode('utf-8')
        payload = U32.pack(len(meta)) + meta + b''.join(records)
        self.channel_send(frame(0, DIRECT, payload))

    def timeout_answers(self):
        """Harakiri (SIGUSR2): a 504 for each running request whose head is not out yet, since
        the master, which answers 504 for the requests it routes, never saw these."""
        for started, req in list(self.running.values()):
            if not req.head_sent:
                req.answer('504 Gateway Timeout', TIMEOUT_TEXT)
