/**
 * Master <-> Python worker wire format (shared with python/berth_runtime/wire.py, which draws the
 * same diagram). One persistent stream socket per worker (the child's fd 3, or, for a worker
 * forked by the zygote, a connection to the master's channel socket opened by HELLO), many
 * requests multiplexed by request id so T worker threads share one channel.
 *
 *   0        4        8   9
 *   +--------+--------+---+---------------------+
 *   | length | req id |typ| payload (length B)  |
 *   +--------+--------+---+---------------------+
 *   length, req id: u32 little-endian; typ: u8; payload length excludes the 9-byte header.
 *
 * Master -> worker
 *   REQUEST    flags:u8, then the environ block: latin1 "KEY\0VALUE\0KEY\0VALUE" (no trailing NUL).
 *              flags bit0 = a body follows in BODY frames ended by BODY_END;
 *              when clear the body is empty and no BODY_END follows.
 *   BODY       raw request-body bytes.
 *   BODY_END   empty: the request body is complete.
 *   ABORT      empty: the client went away; the worker stops sending for this id (sends END).
 *   ACK        u32: this many streamed response-body bytes (BODY frames) left the master; frees window.
 *   SHUTDOWN   empty, id 0: finish in-flight requests, then exit 0.
 *   FILE_OPENED empty: answer to FILE — the master has the body in hand (it opened its own
 *              descriptor, or needs none: HEAD request, head refused, client gone). The worker
 *              calls the iterable's close() and sends END.
 *   FILE_FAILED empty: answer to FILE — the master could not open the file (not Linux, no
 *              access); the worker streams the file through BODY frames instead, then END.
 *   FORK       id = slot, JSON {"slot": n}: (to the zygote) fork a worker for this slot.
 *   REPORT     empty, id 0: (to a worker running a direct server) send a DIRECT frame now, so
 *              a graceful stop counts the requests the worker serves itself; others ignore it.
 *
 * Worker -> master
 *   READY      id 0, JSON {pid, executable, version, threads, sys_path}.
 *   BOOT_FAIL  id 0, JSON {kind, message, traceback, executable, sys_path}; then exit (see EXIT_CODES).
 *   HEAD       latin1 "200 OK\0Name\0Value\0…" (status line, then header pairs).
 *   BODY       response-body bytes (counted against the response window).
 *   END        empty: the response is complete.
 *   FULL       headLen:u32, head block (as HEAD), then the whole body: HEAD + BODY + END in one frame
 *              (not counted against the window).
 *   ERROR      utf-8 text (traceback/reason): the request failed; the response is over. If no HEAD was
 *              sent, the master answers 500; otherwise it cuts the connection.
 *   CREDIT     u32: the app consumed this many request-body bytes; the master may send that much more.
 *   LOG        utf-8 text: a line for the master's log (wsgi.errors, warnings).
 *   FILE       fd:u32, offset:u64, length:u64 (all LE): right after HEAD, when the app returned a
 *              wsgi.file_wrapper over a regular file. The body is `length` bytes of that file from
 *              `offset` (its tell()), capped by the app's Content-Length. The worker keeps the file
 *              open and waits for FILE_OPENED / FILE_FAILED (or ABORT).
 *   MODULES    id 0, JSON list of the absolute paths of the app's loaded module files
 *              (py-autoreload: the master watches them).
 *   FORKED     (zygote) id = slot, JSON {"pid": n}: the worker for this slot was forked.
 *   EXITED     (zygote) id = slot, JSON {"pid", "code": int|null, "signal": name|null}: it was reaped.
 *   HELLO      (forked worker, first frame on its new connection) id = slot, JSON {"pid", "token"}.
 *   RELAY      (uwsgi-direct; first frame of a connection to the master's relay socket) id 0, JSON
 *              {"token", "listener": index of the uwsgi socket, "peer": address ('' for a unix
 *              socket), "port", "local", "local_port": the address the peer reached}; the bytes the worker read follow, then the connection itself:
 *              the master serves it as if it had accepted it on that socket.
 *   DIRECT     (uwsgi-direct) id 0, metaLen:u32, JSON {"served": count, "running": [[seconds,
 *              method, uri], …]}, then records, one per request the access log keeps: status u16,
 *              bytes sent u64, duration µs u32, end wall-clock ms f64, modifier1 u8, vars length u32
 *              (all LE), then the packet's vars block as the peer sent it. Sent once a second while
 *              anything changed, and whenever 128 records are waiting.
 *   RECYCLE    id 0, JSON {"rss": bytes, "limit": bytes}: after a request the worker's RSS was
 *              over reload-on-rss (it checks after every request; sent once). It takes no new
 *              connection on the uwsgi sockets; the master stops routing to it at once, starts
 *              its replacement and retires it (SHUTDOWN) when the replacement is READY.
 *   ACCEPT_STOPPED id 0, empty (uwsgi-direct, http-direct): after a stop, the worker's accept loops
 *              can take no connection on the shared listeners any more (sent once). A switch
 *              reports the new generation serving only after its retiring workers sent it.
 *
 * Preload (zygote) mode
 *
 *   master ──spawn──▶ zygote (fd 3 = control channel; config mode "zygote", channel_path, token)
 *   zygote: imports the app ─▶ READY {…, "zygote": true} (or BOOT_FAIL and exit, as a worker)
 *   master ─▶ FORK(slot) ─▶ zygote forks ─▶ FORKED(slot, pid)
 *   child: connects to channel_path ─▶ HELLO(slot, pid, token) ─▶ READY …, then serves
 *          requests on that connection exactly as a spawned worker on fd 3
 *   child dies ─▶ zygote reaps it ─▶ EXITED(slot, pid, code, signal)
 *   master ─▶ SHUTDOWN (id 0) once its workers are gone ─▶ zygote exits
 *   The zygote's workers share its stdout/stderr pipes; they die with it (PR_SET_PDEATHSIG).
 *
 * The FILE exchange (Linux: /proc/<pid>/fd/<fd> opens the same file, even unlinked or replaced)
 *
 *   worker: HEAD, FILE ─▶ master: open /proc/<pid>/fd/<fd> O_RDONLY, fstat is a regular file
 *     ok:     master ─▶ FILE_OPENED; streams the range itself (one 64 KiB read per flushed piece)
 *             and ends the response when the last byte is out. The worker calls close() and
 *             sends END, which only completes the request's accounting (requestsServed, the
 *             thread slot): the worker thread is free while a slow client still downloads.
 *             A worker ERROR after FILE_OPENED (close() raised) cuts the response, as after HEAD.
 *     failed: master ─▶ FILE_FAILED; the worker streams BODY frames and END as without FILE.
 *   If the worker dies after FILE_OPENED the download goes on: the master's descriptor is its own.
 *   Bodies under 64 KiB skip FILE (one read in Python is cheaper than the round trip).
 */

export const FRAME_HEADER_BYTES = 9;
/** Largest payload either side accepts in one frame; bigger bodies travel as several frames. */
export const MAX_FRAME_PAYLOAD_BYTES = 64 * 1024 * 1024;

export const enum ToWorker {
  REQUEST = 0x01,
  BODY = 0x02,
  BODY_END = 0x03,
  ABORT = 0x04,
  ACK = 0x05,
  SHUTDOWN = 0x06,
  FILE_OPENED = 0x07,
  FILE_FAILED = 0x08,
  FORK = 0x09,
  REPORT = 0x0a,
}

export const enum FromWorker {
  READY = 0x81,
  BOOT_FAIL = 0x82,
  HEAD = 0x83,
  BODY = 0x84,
  END = 0x85,
  FULL = 0x86,
  ERROR = 0x87,
  CREDIT = 0x88,
  LOG = 0x89,
  FILE = 0x8a,
  MODULES = 0x8b,
  FORKED = 0x8c,
  EXITED = 0x8d,
  HELLO = 0x8e,
  RELAY = 0x8f,
  DIRECT = 0x90,
  RECYCLE = 0x91,
  ACCEPT_STOPPED = 0x92,
}

/** DIRECT record head: status u16, bytes sent u64, micros u32, end (wall ms) f64, modifier1 u8, vars length u32. */
export const DIRECT_RECORD_HEAD_BYTES = 27;

/** FILE payload: fd u32, offset u64, length u64. */
export const FILE_PAYLOAD_BYTES = 20;

export const REQUEST_FLAG_HAS_BODY = 0x01;

/** Bytes of streamed response body the worker may send before it waits for ACKs. */
export const RESPONSE_WINDOW_BYTES = 1 << 20;
/** Bytes of request body the master sends ahead of the app's reads (CREDIT returns it). */
export const REQUEST_BODY_WINDOW_BYTES = 1 << 20;

/** Why a worker process exited; the master prints the cause instead of respawning in a loop. */
export const EXIT_CODES = {
  OK: 0,
  /** Bad command line / environment given to the worker by the master (a Berth bug). */
  USAGE: 2,
  /** The runtime could not start: channel fd missing, chdir failed, bad config JSON. */
  BOOT_FAILURE: 3,
  /** The app module/file raised on import, or the callable is missing / not callable. */
  APP_IMPORT_FAILURE: 4,
  /** The master vanished (channel closed): the worker exits on its own. */
  MASTER_GONE: 5,
} as const;
