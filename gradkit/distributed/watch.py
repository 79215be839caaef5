"""No rank left waiting: a watch over the collectives of one job.

`init()` starts one `Watch` per process when the job has more than one rank. It counts the
collectives this rank has started (every call of the communicator is one), times the one
in progress, and listens (a background thread, waking every 0.1 s) on a private duplicate of
the job's communicator for the other ranks' exit notices. It ends the whole job with a
clear message when

- a rank has ended (any exit: `sys.exit(0)`, `sys.exit(3)`, the end of the script, a
  caught exception followed by an exit...) before joining a collective that this rank has
  started: that collective could never complete. A rank that ends after the last
  collective ends nothing: the others finish their own work;
- a collective has waited longer than the timeout (`init(timeout=...)`, `set_timeout`,
  or `$GRADKIT_COLLECTIVE_TIMEOUT`, in seconds; default `DEFAULT_TIMEOUT`, 0 turns it off).

Each rank sends its notice (how many collectives it started) from an `atexit` handler that
runs before MPI is finalised. A rank that dies from a signal or calls `os._exit` is seen by
the MPI launcher itself, which ends the job. The hot path pays two attribute writes and a
clock read per collective; nothing at all on a job of one rank.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

DEFAULT_TIMEOUT = 600.0  # seconds; like PyTorch's NCCL default of 10 minutes
TIMEOUT_ENV = "GRADKIT_COLLECTIVE_TIMEOUT"
POLL_SECONDS = 0.1
_TAG = 0x6B67  # the tag of exit notices on the private communicator


def resolve_timeout(timeout: float | None) -> float:
    """Seconds a collective may wait (0: forever): `timeout` if given, else the environment
    variable `GRADKIT_COLLECTIVE_TIMEOUT`, else `DEFAULT_TIMEOUT`."""
    if timeout is None:
        raw = os.environ.get(TIMEOUT_ENV, "").strip()
        if not raw:
            return DEFAULT_TIMEOUT
        try:
            timeout = float(raw)
        except ValueError:
            raise ValueError(f"{TIMEOUT_ENV}={raw!r}: expected a number of seconds "
                             "(0 turns the collective timeout off)") from None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout != timeout \
            or timeout < 0:
        raise ValueError(f"distributed: the collective timeout must be a number of seconds "
                         f">= 0 (0 turns it off), got {timeout!r}")
    return float(timeout)


class MPIChannel:
    """Exit notices between the ranks, on a duplicate of an mpi4py communicator (so they
    never mix with the job's own collectives)."""

    def __init__(self, comm: Any, MPI: Any) -> None:
        self.MPI = MPI
        self.comm = comm.Dup()
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def notify(self, payload: tuple, wait: float = 2.0) -> None:
        """Send `payload` to every other rank (waits at most `wait` s for the sends)."""
        requests = [self.comm.isend(payload, dest=r, tag=_TAG)
                    for r in range(self.size) if r != self.rank]
        deadline = time.monotonic() + wait
        while not self.MPI.Request.Testall(requests) and time.monotonic() < deadline:
            time.sleep(0.01)

    def poll(self) -> list[tuple[int, Any]]:
        """The notices that have arrived: [(source rank, payload)]."""
        out = []
        status = self.MPI.Status()
        while self.comm.Iprobe(source=self.MPI.ANY_SOURCE, tag=_TAG, status=status):
            source = status.Get_source()
            out.append((source, self.comm.recv(source=source, tag=_TAG)))
        return out


class Watch:
    """Collective counting, timeouts and exit notices for rank `rank` of `size`.

    `channel`: `notify(payload)` / `poll()` (None: no notices, e.g. an MPI without thread
    support); `abort(code)` ends the whole job. The communicator calls `enter(name)` before
    and `leave()` after each collective (`leave(pending=True)` for GPU collectives that
    only queue work).
    """

    def __init__(self, rank: int, size: int, channel: Any, abort: Callable[[int], Any],
                 timeout: float | None = None, poll: float = POLL_SECONDS) -> None:
        self.rank, self.size = rank, size
        self.channel, self._abort = channel, abort
        self.timeout = resolve_timeout(timeout)
        self.poll_seconds = poll
        self.issued = 0  # collectives this rank has started
        self.op: str | None = None  # the one in progress
        self.since = 0.0
        self.pending = 0  # the last queued GPU collective (its completion is not seen)
        self.ended: dict[int, tuple[int, str]] = {}  # rank -> (collectives started, how)
        self.how = "its process exited"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._main = threading.main_thread().ident

    # ---- called by the communicator (hot path) ----------------------------------------
    def enter(self, op: str) -> None:
        """A collective starts on this rank."""
        self.issued += 1
        self.since = time.monotonic()
        self.op = op
        if self.ended:
            self.check()

    def leave(self, pending: bool = False) -> None:
        """The collective returned (`pending`: it only queued GPU work)."""
        if pending:
            self.pending = self.issued
        self.op = None

    # ---- decisions ------------------------------------------------------------------------
    def heard(self, rank: int, payload: Any) -> None:
        """Rank `rank` says it ended after starting `payload[0]` collectives."""
        try:
            count, how = int(payload[0]), str(payload[1])
        except (TypeError, ValueError, IndexError):
            count, how = 0, "it ended"
        self.ended[rank] = (count, how)
        self.check()

    def check(self) -> None:
        """End the job when a rank that ended never joined a collective this rank waits in."""
        op = self.op
        for r, (count, how) in sorted(dict(self.ended).items()):
            if op is not None and count < self.issued:
                self.fail(f"rank {r} of {self.size} has ended ({how}) after {count} "
                          f"collective(s), so it will never join collective #{self.issued} "
                          f"({op}) that rank {self.rank} is waiting in")
            elif count < self.pending:
                self.fail(f"rank {r} of {self.size} has ended ({how}) after {count} "
                          f"collective(s), before the GPU collective #{self.pending} that "
                          f"rank {self.rank} queued")

    def check_time(self, now: float | None = None) -> None:
        """End the job when the collective in progress has waited past the timeout."""
        op, issued, since, limit = self.op, self.issued, self.since, self.timeout
        if op is None or not limit:
            return
        waited = (time.monotonic() if now is None else now) - since
        if waited > limit and self.issued == issued and self.op is not None:
            self.fail(f"rank {self.rank} of {self.size} has waited more than {limit:g} s in {op} "
                      f"(collective #{self.issued}) for the other ranks. Some rank is stuck, "
                      "or runs other code than this one (another branch, more batches, a "
                      "different model). The limit is init(timeout=...), "
                      f"dist.set_timeout(...) or ${TIMEOUT_ENV} (now {limit:g} s; default "
                      f"{DEFAULT_TIMEOUT:g} s; 0 turns it off)")

    def fail(self, message: str) -> None:
        """Print `message` (and where this rank's main thread is), then end the job."""
        if not self._lock.acquire(blocking=False):
            return  # another thread is already ending the job
        try:
            frame = sys._current_frames().get(self._main) if self._main is not None else None
            where = "".join(traceback.format_stack(frame)) if frame is not None else ""
            sys.stdout.flush()
            sys.stderr.write(f"gradkit.distributed: {message}; aborting all ranks.\n"
                             + (f"rank {self.rank} was here:\n{where}" if where else ""))
            sys.stderr.flush()
        finally:
            self._abort(1)

    # ---- the listening thread and the exit notice ------------------------------------------
    def start(self) -> Watch:
        """Start listening (a daemon thread); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gradkit-distributed-watch",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                if self.channel is not None:
                    for rank, payload in self.channel.poll():
                        self.heard(rank, payload)
                self.check_time()
            except Exception as exc:  # never let the watch die silently
                sys.stderr.write(f"gradkit.distributed: the collective watch failed: {exc!r}\n")
                return

    def stop(self) -> None:
        """Stop listening (waits for the thread)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None

    def at_exit(self) -> None:
        """This process ends: stop listening, tell the other ranks how far it got."""
        if os.getpid() != self._pid:
            return  # a forked child: not a rank
        self.stop()
        if self.channel is not None:
            self.channel.notify((self.issued, self.how))
