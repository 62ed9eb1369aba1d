"""One process per core for the local batch (``fupin batch --jobs N``).

The main process reads the chunks and writes the results in input order, as a run with
one process does; ``N`` worker processes, forked once the job is built (the policy
loaded, checked and compiled: nothing is shipped or compiled again), each run
:meth:`~.pipeline.Job.process` on the chunks given to them, the same method the
in-process run and the Dask run call. Chunk ``i`` goes to worker ``i mod N`` and its
outcome is taken back from that worker in turn, so outcomes arrive in input order. A
chunk travels as its raw level (Arrow arrays, numpy arrays: buffers, not Python rows)
and comes back as the result table and the counts; the few invalid rows' reasons,
which need the raw records, are worked out in the main process (:meth:`Job.settle`),
as are the warnings of undeclared columns, merged in chunk order.

Memory stays bounded: at most ``depth`` chunks are in flight per worker. A worker
that raises hands the exception back (raised in the main process when its chunk's
turn comes, so the run stops as it would in one process); a worker that dies
(killed, out of memory) stops the run with E834. Either way the workers are ended and
no result file is left (pipeline.py writes under temporary names).

Workers are forked, so this needs ``fork`` (Linux, macOS); elsewhere ``--jobs auto``
is 1 and a run with one process is the same run.
"""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import queue
import signal
from dataclasses import dataclass, field

import numpy as np

from ...dsl.errors import Bilingual, FupinError, Span, error
from .overlap import WriteBehind, timed_reads
from .readers import Chunk

POLL = 0.2  # seconds between checks that a worker waited on is still alive


def can_fork() -> bool:
    """Whether worker processes can be forked here."""
    return "fork" in mp.get_all_start_methods()


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def jobs_of(value) -> int:
    """The number of processes for ``--jobs``: ``auto`` (the usable cores where workers
    can be forked, else 1) or a number ≥ 1 as given, at most the usable cores (1 where
    workers cannot be forked). A worker beyond the cores evaluates nothing sooner and
    holds its chunks in memory; ``--jobs 100000`` would fork until memory ran out."""
    if not can_fork():
        return 1
    if value in (None, "auto"):
        return usable_cores()
    return max(1, min(int(value), usable_cores()))


def capped(value, jobs: int):
    """W932 when an explicit ``--jobs N`` was lowered to the usable cores, else None."""
    if value in (None, "auto") or int(value) <= jobs or not can_fork():
        return None
    return error("W932", Span("<arguments>", 0, 0), given=int(value), cores=jobs)


@dataclass
class Parcel:
    """A chunk read by the main process, as it travels to a worker: everything but the
    way to its raw records (the main process settles the reasons of invalid rows)."""

    level: object
    rows: np.ndarray
    extra: dict
    broken: list
    reasons: dict
    skipped: list
    first: bool  # the run's first chunk with rows (the validator checks its lists, E816)
    seen: list  # the undeclared columns of the chunks before it, in order (E817 looks at them)
    settles = False

    def prepare(self, validator) -> None:
        """The worker's validator sees the columns the chunks before this one had."""
        validator.resume(self.seen)

    def chunks(self, job, source) -> list:
        """The chunk again, without raw records."""
        return [Chunk(self.level, self.rows, _no_records, self.extra, self.broken, self.reasons, self.skipped)]


@dataclass
class Slice:
    """One row group of a Parquet input, which the worker reads itself."""

    group: int
    start: int  # input rows before it
    first: bool  # the run's first row group with rows
    settles = True

    def prepare(self, validator) -> None:
        """Nothing: every row group of a Parquet file has the same columns."""

    def chunks(self, job, source):
        """Its chunks, read in the worker (timed as the run's "read" stage)."""
        return timed_reads(job, source.slice(self.group, self.start))


def _no_records(rows):
    raise RuntimeError("internal: a worker asked for raw records")


@dataclass
class Done:
    """A worker's outcome of one chunk, with its undeclared columns and stage times."""

    outcome: object
    undeclared: list
    timings: dict = field(default_factory=dict)


@dataclass
class Failed:
    """A worker's exception (itself when it pickles, else its type and text) and the
    rows of the chunk it was processing (0 if reading it failed)."""

    exc: BaseException | None
    text: str
    rows: int


END = "end"  # after the last outcome of a task


class Workers:
    """``n`` forked processes running one job's tasks; outcomes back in task order.

    A task is a :class:`Parcel` (a chunk the main process read) or a :class:`Slice`
    (a Parquet row group the worker reads). Task ``i`` goes to worker ``i mod n``,
    whose outcomes are taken back in turn. Each worker hands its outcomes back through
    a pipe of its own from a thread that holds at most ``depth`` of them (memory stays
    bounded even for one large row group); the main process holds no end of it for
    writing, so a worker that dies, even halfway through an outcome, is seen as the
    pipe's end (E834) rather than waited for."""

    def __init__(self, job, source, n: int, depth: int = 2):
        self.job, self.depth = job, depth
        ctx = mp.get_context("fork")
        self.tasks = [ctx.Queue() for _ in range(n)]
        self.results, self.procs = [], []
        self.sent = self.taken = 0
        gc.freeze()  # the job's objects stay out of the workers' collections (no copy-on-write of their pages)
        parent = os.getpid()  # given, not read in the worker: the main process may be gone by then
        try:
            for i, tasks in enumerate(self.tasks):
                reader, writer = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_serve, args=(job, source, tasks, [*self.results, reader], writer, depth,
                                                        parent), name=f"fupin-batch-{i}", daemon=True)
                self.results.append(reader)
                self.procs.append(proc)
                proc.start()
                writer.close()  # the worker's alone: its pipe ends when it does
        except OSError as exc:  # fork refused (processes, memory): end the ones started
            writer.close()
            self.close(done=False)
            raise FupinError(error("E834", Span("<batch>", 0, 0), worker=f"fupin-batch-{len(self.procs) - 1}",
                                   how=Bilingual(f"无法启动：{exc}", f"could not be started: {exc}"))) from None
        finally:
            gc.unfreeze()
        self.sent = self.taken = 0
        self.rows_seen = False
        self.seen: list = list(job.validator.undeclared)  # undeclared columns of the chunks sent so far
        self.failed_rows = 0  # rows of the chunk a worker failed on (counted as read)

    @property
    def full(self) -> bool:
        """Whether ``depth`` tasks per worker are in flight (take one back before sending more)."""
        return self.sent - self.taken >= self.depth * len(self.procs)

    def send_chunk(self, chunk) -> None:
        """Give a chunk read here to the next worker in turn."""
        first = bool(chunk.level.n) and not self.rows_seen
        self.rows_seen = self.rows_seen or first
        seen, self.seen = self.seen, self.job.validator.seen_after(self.seen, chunk.level, chunk.skipped)
        self._send(Parcel(chunk.level, chunk.rows, chunk.extra, chunk.broken, chunk.reasons, chunk.skipped, first,
                          seen))

    def send_group(self, group: int, start: int, rows: int) -> None:
        """Give a Parquet row group to the next worker in turn."""
        first = bool(rows) and not self.rows_seen
        self.rows_seen = self.rows_seen or first
        self._send(Slice(group, start, first))

    def _send(self, task) -> None:
        # Pickled here, not in the queue's feeder thread: a task that cannot be pickled
        # (memory) raises in the run instead of being dropped, which would pair every
        # later outcome with the wrong chunk. Its number travels with it and comes back.
        data = pickle.dumps((self.sent, task), pickle.HIGHEST_PROTOCOL)
        self.tasks[self.sent % len(self.procs)].put(data)
        self.sent += 1

    def take(self):
        """The outcomes of the oldest task in flight, in order (its worker's exception
        raised after the outcomes before it; ``failed_rows`` then holds its chunk's rows)."""
        i, number = self.taken % len(self.procs), self.taken
        self.taken += 1
        while True:
            seq, item = self._wait(i)
            if seq != number:  # never expected: stop rather than write a chunk's rows as another's
                raise WorkerFailed(f"internal: worker {i} answered task {seq} where task {number} was due")
            if item == END:
                return
            if isinstance(item, Failed):
                self.failed_rows = item.rows
                raise item.exc if item.exc is not None else WorkerFailed(item.text)
            self.job.validator.note_skipped(item.undeclared)  # in chunk order, as one process notes them
            for stage, seconds in item.timings.items():
                self.job.timings[stage] = self.job.timings.get(stage, 0.0) + seconds
            yield item.outcome

    def _wait(self, i: int):
        conn, proc = self.results[i], self.procs[i]
        try:
            while not conn.poll(POLL):
                if proc.exitcode is not None and not conn.poll(0):
                    raise EOFError
            return conn.recv()
        except (EOFError, OSError):  # the worker is gone (its end of the pipe closed with it)
            proc.join(timeout=5)
            raise FupinError(lost(proc)) from None

    def close(self, done: bool) -> None:
        """End the workers: asked to stop after a finished run, terminated otherwise."""
        for t in self.tasks:
            if done:
                t.put(None)
            t.cancel_join_thread()  # never wait to flush tasks no worker will read
        for p in self.procs:
            if p.pid is None:  # never started (the fork failed)
                continue
            if not done and p.is_alive():
                p.terminate()
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
        for r in self.results:
            r.close()
        for t in self.tasks:
            t.close()


class WorkerFailed(Exception):
    """An exception in a worker that could not travel as itself."""


def lost(proc):
    """E834: a worker process ended without handing back its chunk."""
    code = proc.exitcode
    how = Bilingual(f"信号 {-code}", f"signal {-code}") if code is not None and code < 0 \
        else Bilingual(f"退出码 {code}", f"exit code {code}")
    return error("E834", Span("<batch>", 0, 0), worker=proc.name, how=how)


def _serve(job, source, tasks, readers, writer, depth: int, parent: int) -> None:
    """A worker's loop: run tasks until told to stop (``None``), one fails or the main
    process is gone; outcomes are sent from a thread, so the next chunk is processed
    while one is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    for reader in readers:  # the main process's ends, inherited: a pipe must end when the main process does
        reader.close()
    job.timings.clear()  # the main process's times so far are its own, not to be sent back again
    sender = WriteBehind(writer.send, depth)
    try:
        while os.getppid() == parent:
            try:
                data = tasks.get(timeout=1)
            except queue.Empty:
                continue
            if data is None:
                return
            seq, task = pickle.loads(data)
            if not _run_task(job, source, seq, task, sender):
                return
    finally:
        sender.close()


def _run_task(job, source, seq: int, task, sender) -> bool:
    """Process a task's chunks, handing back each outcome (with the task's number); False
    if one failed."""
    job.validator.structure_seen = not task.first
    task.prepare(job.validator)
    rows = 0
    try:
        for chunk in task.chunks(job, source):
            rows = chunk.level.n + len(chunk.broken)
            outcome = job.process(chunk, settle=task.settles)
            rows = 0
            sender.put((seq, Done(outcome, list(job.validator.undeclared), dict(job.timings))))
            job.timings.clear()
        sender.put((seq, END))
    except BaseException as exc:  # handed back; the main process stops the run with it
        sender.put((seq, _failed(exc, rows)))
        return False
    return True


def _failed(exc: BaseException, rows: int) -> Failed:
    text = f"{type(exc).__name__}: {exc}"
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return Failed(None, text, rows)
    return Failed(exc, text, rows)
