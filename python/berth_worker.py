"""Berth worker launcher: runs berth_runtime.main for the master (the spawn contract).

The master runs ``<python> berth_worker.py``; the runtime is the berth_runtime package
beside this file (its __init__ describes the spawn contract, wire.py the frames)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if not sys.path or os.path.abspath(sys.path[0] or '.') != HERE:
    sys.path.insert(0, HERE)  # boot's prepare_sys_path takes it off again before the app loads

from berth_runtime.main import launch  # noqa: E402

if __name__ == '__main__':
    launch(sys.argv)
