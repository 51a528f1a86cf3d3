"""Independent tasks on Dask: an embedded cluster on this machine, or an existing one.

Work that outgrows one process - mutants, stateful seeds, verify's
searches - is a list of independent tasks, each a plain function of plain
arguments returning plain data.  :class:`Pool` runs such a list on
``dask.distributed``:

* by default an embedded ``LocalCluster`` of ``workers`` single-threaded
  worker processes on this machine;
* with ``scheduler`` (``tcp://host:8786``), the workers of an existing
  cluster (docs/scale-out.md says how to start one).

Each worker reads the specification this run reads: its files travel to
every worker once, in a worker plugin (workers that join or restart later
get it too), and are loaded there as ``--spec`` would load them; a worker
with another version of deliverycheck refuses the work.

A task whose worker is lost is run again elsewhere (Dask reschedules it;
``retries`` more attempts when it raises).  Results are keyed by the task's
position, so the caller sees exactly what a run in one process gives,
whatever order they finish in.  On Ctrl-C the tasks not yet finished are
cancelled and what finished is kept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from distributed import Client, LocalCluster, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from deliverycheck import __version__
from deliverycheck.errors import UsageError

RETRIES = 2
CONNECT_SECONDS = 3


class WorkerError(Exception):
    """A task failed on a worker after its retries (the message names the task)."""


def spec_files(model: Path, properties: Path) -> dict[str, bytes]:
    """The specification's files (``model/``, ``properties/``) by their path in a checkout."""
    out: dict[str, bytes] = {}
    for folder in (model, properties):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out[f"{folder.name}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return out


def install_spec(files: dict[str, bytes], version: str) -> Path:
    """Write ``files`` to a folder of this machine and make this process read it (a worker's setup).

    The same files always land in the same folder; a process that already
    reads another specification cannot switch (its modules are loaded) and
    says so.
    """
    from deliverycheck import source
    if version != __version__:
        raise RuntimeError(f"this worker runs deliverycheck {__version__}, the client "
                           f"{version}: install the same version on every worker")
    digest = hashlib.sha256(b"".join(k.encode() + b"\0" + v for k, v in sorted(files.items())))
    root = Path(tempfile.gettempdir()) / f"deliverycheck-spec-{digest.hexdigest()[:16]}"
    if not (root / "model" / "__init__.py").is_file():
        staging = Path(tempfile.mkdtemp(prefix="deliverycheck-spec-"))
        for name, data in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            os.replace(staging, root)    # another worker may have written it first: same files
        except OSError:
            pass
    source.select(str(root))
    return root


class SpecPlugin(WorkerPlugin):
    """The worker plugin that installs the run's specification on each worker."""

    name = "deliverycheck-spec"

    def __init__(self, files: dict[str, bytes]):
        self.files, self.version = files, __version__

    def setup(self, worker: Any) -> None:  # noqa: ARG002 - WorkerPlugin API
        """Install the specification in the worker's process."""
        install_spec(self.files, self.version)


def reachable(address: str) -> None:
    """Connect to the scheduler at ``address`` and leave: a one-line usage error if it cannot be
    reached within a few seconds."""
    _connect(address).close()


def _connect(address: str) -> Any:
    try:
        return Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise UsageError(f"cannot reach the Dask scheduler at {address} ({_first_line(e)}); start "
                         "one (docs/scale-out.md) or leave out --scheduler to run on this "
                         "machine") from None


class Pool:
    """Tasks on Dask (``with Pool(...) as pool: pool.run(fn, args)``), see the module docstring."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None,
                 spec: tuple[Path, Path] | None = None):
        self.workers, self.scheduler, self.spec = workers, scheduler, spec
        self.client: Any = None
        self.cluster: Any = None

    def __enter__(self) -> "Pool":
        logging.getLogger("distributed").setLevel(logging.ERROR)
        if self.scheduler:
            self.client = _connect(self.scheduler)
        else:
            self.cluster = LocalCluster(n_workers=self.workers or 1, threads_per_worker=1,
                                        processes=True, dashboard_address=None,
                                        memory_limit=0, silence_logs=logging.ERROR)
            self.client = Client(self.cluster, set_as_default=False)
        if self.spec is not None:
            self.client.register_plugin(SpecPlugin(spec_files(*self.spec)))
        return self

    def __exit__(self, *exc: Any) -> None:
        for closing in (self.client, self.cluster):
            if closing is not None:
                try:
                    closing.close()
                except Exception:  # noqa: BLE001 - shutting down: nothing left to save
                    pass

    @property
    def size(self) -> int:
        """Workers the cluster has now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple], names: Sequence[str] | None = None,
            failures: bool = False) -> Iterator[tuple[int, Any]]:
        """``(position, fn(*tasks[position]))`` as tasks finish.

        A task that fails after its retries raises :class:`WorkerError`, or
        with ``failures`` is yielded as one (the run goes on); on Ctrl-C
        what is left is cancelled and the interruption re-raised, after what
        was yielded.
        """
        futures = [self.client.submit(fn, *args, key=f"{names[i] if names else 'task'}-{i}",
                                      retries=RETRIES, pure=False)
                   for i, args in enumerate(tasks)]
        where = {f.key: i for i, f in enumerate(futures)}
        try:
            for f in as_completed(futures, loop=self.client.loop):
                i = where[f.key]
                try:
                    result = f.result()
                except Exception as e:  # noqa: BLE001 - whatever the task raised, on a worker
                    error = WorkerError(f"the task failed: {_first_line(e)}")
                    if not failures:
                        raise error from None
                    result = error
                yield i, result
        finally:
            self.client.cancel([f for f in futures if not f.done()])


def serial(fn: Callable[..., Any], tasks: Sequence[tuple], failures: bool = False
           ) -> Iterator[tuple[int, Any]]:
    """The same tasks in this process, in order (what a run on Dask must equal); ``failures``
    as for :meth:`Pool.run`."""
    for i, args in enumerate(tasks):
        try:
            yield i, fn(*args)
        except Exception as e:  # noqa: BLE001 - reported like a worker's failure
            if not failures:
                raise
            yield i, WorkerError(f"the task failed: {_first_line(e)}")


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0]
