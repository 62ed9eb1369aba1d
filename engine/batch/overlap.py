"""Overlap reading, evaluating and writing: one thread reads ahead, one writes behind.

Parquet decoding and encoding run in pyarrow's C++ code without the GIL, so reading
the next chunk and writing the previous one proceed while the main thread validates
and evaluates the current one. Queues hold at most ``depth`` chunks, so memory stays
bounded; an exception in a helper thread is raised in the main thread.
"""
from __future__ import annotations

import queue
import threading

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


def read_ahead(iterable, depth: int = 2):
    """Iterate ``iterable`` in a thread, up to ``depth`` items ahead of the consumer."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for item in iterable:
                if not _put(items, item, stop):
                    return
            _put(items, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, raised there
            _put(items, _Failed(exc), stop)

    thread = threading.Thread(target=produce, name="fupin-batch-read", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


def _put(items: queue.Queue, item, stop: threading.Event) -> bool:
    """Put unless the consumer has stopped; False when it has."""
    while not stop.is_set():
        try:
            items.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class WriteBehind:
    """Calls ``write(item)`` in a thread, in order, at most ``depth`` items behind."""

    def __init__(self, write, depth: int = 2):
        self._write = write
        self._items: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="fupin-batch-write", daemon=True)
        self._thread.start()

    def put(self, item) -> None:
        """Queue one item (waits while ``depth`` items are pending)."""
        self._raise()
        self._items.put(item)

    def close(self) -> None:
        """Write what is queued, stop the thread, raise its error if it had one."""
        self._items.put(_DONE)
        self._thread.join()
        self._raise()

    def _run(self) -> None:
        while True:
            item = self._items.get()
            if item is _DONE:
                return
            if self._error is None:
                try:
                    self._write(item)
                except BaseException as exc:  # raised in the main thread on the next put/close
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def timed_reads(job, chunks):
    """The chunks, with the time spent producing them added to the "read" stage."""
    chunks = iter(chunks)
    while True:
        with job.clock("read"):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk
