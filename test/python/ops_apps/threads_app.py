"""ops_app, plus a thread started while being imported (the zygote must warn about it)."""

import threading
import time

from ops_app import application  # noqa: F401

threading.Thread(target=time.sleep, args=(300,), name='app-import-thread', daemon=True).start()
