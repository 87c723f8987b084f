"""Child processes that die with the simulator.

Every process kubesim starts is recorded here and nowhere else, so stopping
kills exactly those (never anything it did not start). Children also get
PR_SET_PDEATHSIG (SIGKILL: an apiserver whose etcd vanished with it would
otherwise hang in its graceful shutdown), so a kubesim killed with SIGKILL does
not leave them behind. The death signal follows the thread that forked, so
start() must be called from the main thread.
"""

import ctypes
import os
import signal
import socket
import subprocess
import threading
import time

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1

_children = []
_lock = threading.Lock()


def _die_with_parent():
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setpgid(0, 0)


def start(argv, log_path, env=None, cwd=None):
    assert threading.current_thread() is threading.main_thread(), "start children from the main thread"
    logf = open(log_path, "ab")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                         env=env, cwd=cwd, preexec_fn=_die_with_parent)
    logf.close()
    with _lock:
        _children.append(p)
    return p


def stop_all(grace=10.0):
    with _lock:
        kids = list(reversed(_children))
        _children.clear()
    for p in kids:
        if p.poll() is None:
            try:
                p.terminate()
            except ProcessLookupError:
                pass
    deadline = time.time() + grace
    for p in kids:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop(p, grace=10.0):
    """Stop one child started here and forget it."""
    with _lock:
        if p in _children:
            _children.remove(p)
    if p.poll() is None:
        try:
            p.terminate()
        except ProcessLookupError:
            pass
    try:
        p.wait(grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def dead_children():
    with _lock:
        return [p for p in _children if p.poll() is not None]


class PortPool:
    """Free ports handed out once each within this run, each held until the
    run ends by a bound socket (SO_REUSEADDR, never listening). A port the
    kernel chose and let go is in its ephemeral range: before the server
    that takes it binds (the proxy, seconds later), an outgoing connection
    or another simulator could take it (EADDRINUSE). Held, neither can; the
    server (SO_REUSEADDR too: Python's servers here and Go's listeners) still
    binds and listens on it."""

    def __init__(self):
        self.held = []

    def take(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))  # the kernel never hands out a port still bound
        self.held.append(s)
        return s.getsockname()[1]
