"""Running an evaluation off the event loop, bounded in time and in number.

Evaluation is CPU work under the GIL: run on the event loop it would stall every other
request. :class:`Runner` runs it in a worker thread (anyio) and bounds it twice:

- **number** — at most ``Limits.concurrent`` evaluations waiting or running; one more is
  refused at once with 503 E866 and ``Retry-After`` (a queue that only grows helps no one);
- **time** — a request whose evaluation has not finished after ``Limits.seconds`` is
  answered 503 E865. Python cannot stop a thread: the abandoned evaluation runs to its
  end in the background, its result is dropped and nothing is logged for it, and it keeps
  its place in the count until it ends, so abandoned work can never pile up beyond the bound.
"""
from __future__ import annotations

import math
import threading

import anyio

from ..config import Limits
from ..problems import Problem, at

THREADS = 4  # evaluations running at once; the rest of the bound waits for a thread


class Runner:
    """The bounded evaluator of one application (see the module docstring)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.active = 0  # evaluations waiting, running or abandoned-but-running
        self._lock = threading.Lock()
        self._limiter: anyio.CapacityLimiter | None = None  # made on the event loop, on first use

    def _enter(self) -> None:
        with self._lock:
            if self.active >= self.limits.concurrent:
                raise Problem(at("<request>", "E866", limit=self.limits.concurrent), 503,
                              headers={"Retry-After": "1"})
            self.active += 1

    def _leave(self) -> None:
        with self._lock:
            self.active -= 1

    async def run(self, work):
        """``work()`` in a worker thread; its value, or Problem E865/E866 (503)."""
        self._enter()
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(THREADS)
        state = {"started": False, "dropped": False}
        lock = threading.Lock()

        def job():
            with lock:
                if state["dropped"]:
                    return None
                state["started"] = True
            try:
                return work()
            finally:
                self._leave()

        try:
            with anyio.fail_after(self.limits.seconds):
                return await anyio.to_thread.run_sync(job, limiter=self._limiter, abandon_on_cancel=True)
        except TimeoutError:
            seconds = self.limits.seconds
            raise Problem(at("<request>", "E865", seconds=int(seconds) if seconds == math.floor(seconds) else seconds),
                          503, headers={"Retry-After": "5"}) from None
        finally:  # timed out or cancelled before a thread took it: it will never run
            with lock:
                never_ran = not state["started"]
                state["dropped"] = True
            if never_ran:
                self._leave()
