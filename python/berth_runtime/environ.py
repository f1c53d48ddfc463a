"""The PEP 3333 environ: the base every request starts from, wsgi.errors, wsgi.file_wrapper."""

import threading

SERVER_SOFTWARE = 'Berth'
FILE_WRAPPER_MIN_BLOCK = 64 << 10


class ErrorStream(object):
    """wsgi.errors: text written here reaches stderr, which the master logs line by line."""

    def __init__(self, stream):
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, text):
        if not isinstance(text, str):
            text = bytes(text).decode('utf-8', 'replace')
        with self._lock:
            self._stream.write(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        self._stream.flush()


class FileWrapper(object):
    """wsgi.file_wrapper: iterates a file-like by read(); close() passes through.

    Blocks are at least 64 KiB whatever the app asks (Django asks 4 KiB): the client
    sees the same bytes in far fewer frames."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = max(int(blksize), FILE_WRAPPER_MIN_BLOCK)
        if hasattr(filelike, 'close'):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


def base_environ(threads, processes, errors):
    return {
        'wsgi.version': (1, 0),
        'wsgi.url_scheme': 'http',
        'wsgi.errors': errors,
        'wsgi.multithread': threads > 1,
        'wsgi.multiprocess': processes > 1,
        'wsgi.run_once': False,
        'wsgi.file_wrapper': FileWrapper,
        'wsgi.input_terminated': True,
        'SERVER_SOFTWARE': SERVER_SOFTWARE,
        'SCRIPT_NAME': '',
    }


def build_environ(base, block):
    """One C-level split of the latin1 "K\\0V\\0..." block, laid over a copy of base."""
    env = base.copy()
    if block:
        parts = block.decode('latin-1').split('\0')
        env.update(zip(parts[0::2], parts[1::2]))
    return env

