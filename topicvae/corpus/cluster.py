"""Where ``ingest`` tokenizes its partitions: in this process, on a local Dask cluster, or on a running one.

``--workers 1`` (the default) tokenizes in this process and imports no Dask. ``--workers N`` starts a
``distributed.LocalCluster`` of N worker processes of one thread each for the ingest (forked from this
process where that is safe: :func:`start_method`), and closes it after. ``--scheduler ADDRESS``
(``tcp://host:8786``) sends the partitions to the workers of a Dask cluster started beforehand
(``dask scheduler``, ``dask worker ADDRESS`` on each machine). Each partition's texts travel with its
task and its token counts come back to this process, which writes the corpus: the workers need
topicvae installed, nothing of the corpus folder.

A result depends on the texts alone, so the corpus is the same whichever runner tokenized it.
Connection problems and workers that die past Dask's retries become one-line
:class:`~topicvae.errors.ConfigError` / :class:`~topicvae.errors.CorpusError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import uuid
import warnings
from typing import Callable, Iterable, Iterator

from topicvae.errors import ConfigError, CorpusError, first_line

#: seconds to wait for a scheduler to answer (and, after that, for its first worker)
CONNECT_TIMEOUT = 10.0

#: Dask settings of the local cluster (a cluster of ``--scheduler`` keeps its own). No dashboard shows
#: what Dask samples for one, which costs CPU on the cores the tokenizing needs: the workers' profiles
#: (a thread sampling every 10 ms, 1-2 CPU-seconds per million documents), and the event loops' ticks
#: (every 20 ms in the scheduler, each nanny and each worker), the memory monitors (every 100 ms) and
#: the system monitors (every 500 ms), which an idle 2-worker cluster runs at some 0.06 CPU-seconds a
#: second, a third of that at the intervals below (docs/benchmarks.md, "Two Dask workers against one")
LOCAL_CLUSTER_SETTINGS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


class InProcess:
    """Runs each task here, one after another, when its result is asked for."""

    workers = 1
    description = "in-process"

    def imap(self, fn: Callable, tasks: Iterable[tuple[object, tuple]]) -> Iterator[tuple[object, object]]:
        """(key, fn(*args)) of each (key, args) of ``tasks``, in order."""
        for key, args in tasks:
            yield key, fn(*args)

    def close(self) -> None:
        pass


class DaskRunner:
    """Runs tasks on a Dask cluster, a few per worker thread in flight (so that the partitions read
    ahead stay few), and yields results as they finish."""

    def __init__(self, client, cluster=None, description: str = "dask"):
        self.client, self.cluster, self.description = client, cluster, description

    @property
    def workers(self) -> int:
        return max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def imap(self, fn: Callable, tasks: Iterable[tuple[object, tuple]]) -> Iterator[tuple[object, object]]:
        from distributed import as_completed

        slots = 2 * self.workers
        run = uuid.uuid4().hex  # task keys are the scheduler's, shared by every client: make ours unique
        pending = as_completed(loop=self.client.loop)
        keys: dict[str, object] = {}
        tasks = iter(tasks)

        def fill() -> None:
            while pending.count() < slots:
                nxt = next(tasks, None)
                if nxt is None:
                    return
                key, args = nxt
                with warnings.catch_warnings():  # a partition's texts are meant to travel with its task
                    warnings.simplefilter("ignore", UserWarning)
                    future = self.client.submit(_call, fn, _Opaque(args), pure=False,
                                                key=f"topicvae-tokenize-{key}-{run}")
                keys[future.key] = key
                pending.add(future)

        fill()
        for future in pending:
            try:
                result = future.result()
            except Exception as exc:
                raise _task_error(exc, keys.get(future.key)) from None
            key = keys.pop(future.key)
            future.release()
            yield key, result
            fill()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


class _Opaque:
    """A task's arguments in one object that Dask sends as it is: without it, Dask walks the arguments
    looking for tasks inside them, every element of a list (a partition's texts as a list of str: some
    CPU-seconds per million documents in the driver, on the cores the workers need; an ingest sends
    them as one Arrow array)."""

    __slots__ = ("args",)

    def __init__(self, args: tuple):
        self.args = args

    def __getstate__(self):
        return self.args

    def __setstate__(self, args):
        self.args = args


def _call(fn: Callable, packed: _Opaque):
    """``fn(*args)`` of a task submitted with its arguments packed (:class:`_Opaque`)."""
    return fn(*packed.args)


def _task_error(exc: Exception, key) -> CorpusError:
    """The one line for a partition that the cluster could not tokenize."""
    from distributed.scheduler import KilledWorker

    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, KilledWorker):
        return CorpusError(f"Dask workers died while tokenizing partition {key} (dask: {text}); nothing was "
                           "written. Check the workers' memory and logs, then run the ingest again")
    if isinstance(exc, (OSError, TimeoutError)) or type(exc).__name__ in ("CommClosedError", "CancelledError",
                                                                          "FutureCancelledError"):
        return CorpusError(f"lost the Dask cluster while tokenizing partition {key} ({type(exc).__name__}: "
                           f"{text}); nothing was written, run the ingest again")
    raise exc  # anything else is a bug in the task: keep its traceback


def runner(workers: int = 1, scheduler: str | None = None):
    """The runner for ``--workers`` / ``--scheduler``: :class:`InProcess` for one worker and no
    scheduler, else a :class:`DaskRunner` (close it after use)."""
    if scheduler:
        return _connect(scheduler)
    if workers <= 1:
        return InProcess()
    return _local_cluster(workers)


def _distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - a dependency; said plainly if it is missing anyway
        raise ConfigError(f"--workers above 1 and --scheduler need Dask: pip install 'dask[distributed]' ({exc})") \
            from None
    # Dask logs every scheduler and worker event at INFO (its import sets that up); an ingest's own log
    # says what matters, Dask's warnings (a worker lost, say) still show
    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                 "distributed.http.proxy", "distributed.worker"):
        if logging.getLogger(name).getEffectiveLevel() < logging.WARNING:
            logging.getLogger(name).setLevel(logging.WARNING)
    return distributed


def _local_cluster(workers: int) -> DaskRunner:
    import dask

    distributed = _distributed()
    try:
        # "port 8787 is in use": its HTTP server takes another port then
        method = start_method()
        with warnings.catch_warnings(), dask.config.set({**LOCAL_CLUSTER_SETTINGS,
                                                         "distributed.worker.multiprocessing-method": method}):
            warnings.simplefilter("ignore", UserWarning)
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None,
                                               silence_logs=logging.ERROR)
    except Exception as exc:
        raise ConfigError(f"could not start a local Dask cluster of {workers} workers ({type(exc).__name__}: "
                          f"{first_line(exc)}); try fewer --workers") from None
    client = distributed.Client(cluster, set_as_default=False)
    started = {"fork": "forked", "spawn": "spawned"}.get(method, f"{method}-started")
    return DaskRunner(client, cluster, f"a local Dask cluster of {workers} {started} workers")


def start_method() -> str:
    """How the local cluster starts its workers: ``fork`` (copies of this process) where that is safe,
    else ``spawn`` (fresh interpreters, Dask's default).

    A forked worker skips a fresh interpreter's start and imports, on the cores the tokenizing needs
    (docs/benchmarks.md, "Two Dask workers against one"). It is safe only from a process that runs no
    thread but its main one: a child holds none of its parent's other threads, so whatever waits on
    one of them waits forever there (a worker forked after Dask's offload thread has run hangs on its
    first message over 10 MiB). So: fork on Linux, from a process with one thread that has not
    imported PyTorch (whose thread pool is native), spawn otherwise; a method set through Dask's
    ``distributed.worker.multiprocessing-method`` (``DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD``
    in the environment) is used as it is.
    """
    import dask

    chosen = dask.config.get("distributed.worker.multiprocessing-method", default="spawn")
    if chosen != "spawn" or os.environ.get("DASK_DISTRIBUTED__WORKER__MULTIPROCESSING_METHOD"):
        return chosen
    if sys.platform.startswith("linux") and threading.active_count() == 1 and "torch" not in sys.modules:
        return "fork"
    return "spawn"


def _connect(address: str) -> DaskRunner:
    distributed = _distributed()
    _check_address(address)
    try:
        client = _client(distributed, address)
    except (Exception, MemoryError) as exc:  # whatever a server that is not Dask makes the client raise (below)
        raise ConfigError(f"could not connect to the Dask scheduler at {address} ({first_line(exc)}); start one with `dask scheduler` and workers with "
                          f"`dask worker {address}`, or check the address") from None
    try:
        client.wait_for_workers(1, timeout=3 * CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise ConfigError(f"the Dask scheduler at {address} has no workers ({first_line(exc)}); start them "
                          f"with `dask worker {address}`") from None
    return DaskRunner(client, None, f"the Dask cluster at {address}")


def _check_address(address: str) -> None:
    """:class:`ConfigError` (one line, at once) for an address Dask cannot connect to at all, such as
    ``localhost`` without a port."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise ConfigError(f"--scheduler {address!r} is not a scheduler's address ({first_line(exc)}); give it as "
                          "tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786 (what `dask scheduler` prints)") from None


def _client(distributed, address: str):
    """``distributed.Client(address)``, given up (a TimeoutError) after twice :data:`CONNECT_TIMEOUT`.

    The client's own timeout covers reaching the address, not what answers there: a server that is not
    a Dask scheduler (a web server on the dashboard's port 8787, say) can keep its handshake waiting for
    ever, or send bytes read as a frame of many GB (a MemoryError). So the attempt runs in a daemon
    thread, which is left behind when it does not return, with the half-made client and its socket
    (a command then exits; a notebook keeps them until it does)."""
    import threading

    outcome: dict = {}

    def attempt() -> None:
        try:
            outcome["client"] = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except BaseException as exc:  # (handed to the caller)
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name="topicvae-dask-connect", daemon=True)
    thread.start()
    thread.join(2 * CONNECT_TIMEOUT)
    if thread.is_alive():
        raise TimeoutError("something answers there, but not as a Dask scheduler")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["client"]
