"""The local stack's stream readers run in a process of their own (infra/local/stream_poller.py StreamProcess):
asked to stop, they have a bounded time to read what is left, and are killed after it, so a stream backlog
cannot hold the stack's stop past what its callers wait (the bench gives a stack 60 s)."""
from __future__ import annotations

import sys
import time

from infra.local.stream_poller import STOP_DRAIN_S, STOP_GRACE_S, StreamProcess

# A reader that never finishes its last read: it ignores the stop signal.
STUBBORN = [sys.executable, "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); "
            "time.sleep(600)"]
# One that stops when asked.
OBEDIENT = [sys.executable, "-c", "import time; time.sleep(600)"]


def _started(command: list[str], stop_within_s: float) -> StreamProcess:
    readers = StreamProcess("app:app", "http://127.0.0.1:1", "us-east-1", "local", stop_within_s=stop_within_s,
                            command=command)
    readers.start()
    time.sleep(0.5)  # the interpreter is up and has set its signal handler
    assert readers.running
    return readers


def test_readers_that_do_not_stop_are_killed_once_their_time_is_up() -> None:
    readers = _started(STUBBORN, stop_within_s=1.0)
    started = time.monotonic()
    readers.stop()
    assert 1.0 <= time.monotonic() - started < 5.0
    assert not readers.running


def test_readers_that_stop_when_asked_are_not_waited_for() -> None:
    readers = _started(OBEDIENT, stop_within_s=30.0)
    started = time.monotonic()
    readers.stop()
    assert time.monotonic() - started < 5.0 and not readers.running


def test_the_stacks_bound_leaves_room_within_the_benchs_sixty_seconds() -> None:
    assert STOP_DRAIN_S + STOP_GRACE_S < 60.0
