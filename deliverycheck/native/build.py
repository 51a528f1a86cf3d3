"""Building the generated C into a shared library, and the cache of built libraries.

The generated model (:mod:`deliverycheck.native.emit`) and the search
(``search.c``) are one translation unit, built with the system's C compiler
(``$CC``, else ``cc`` or ``gcc``) into a shared library loaded with
:mod:`ctypes`.  Built libraries are cached by the SHA-256 of what went into
them: the source (a function of the model's code and the configuration;
every property is in it, and a search says which it checks), the
compiler's version and the flags; so a model change or a bound builds
anew, and a second run loads the library in milliseconds.

The cache lives in ``$DELIVERYCHECK_CACHE/native`` (default
``$XDG_CACHE_HOME/deliverycheck`` or ``~/.cache/deliverycheck``).  A
library is written under a temporary name and renamed into place, so two
runs building the same model at once cannot load half a file.

A run that will need several modules (``verify`` over every mode) hands
them to :func:`prebuild` first: they are compiled in the background, as
many at once as the machine has cores, while the first searches run, and
:func:`build` waits for a module already being compiled instead of
compiling it again.  The compiler is most of a first run's time (one to
five seconds a module against a fraction of a second for a search).
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

# -O1 without its dominator optimisations: a quarter less compile time per module (2.6 s -> 1.9 s
# for exactly-once's) for searches about a tenth slower (exactly-once/rf2: 1.9 s -> 2.1 s); the
# default verify builds every search's module on a first run, and its searches are short
# (benchmarks/verify_time.py)
FLAGS = ("-O1", "-fno-tree-dominator-opts", "-fPIC", "-shared", "-pthread", "-fno-strict-aliasing")
# A search at its row's default bounds is built at -O0: 2.5 times faster to build
# (exactly-once: 1.9 s -> 0.8 s) for searches 10 to 25% slower (the default run's biggest,
# exactly-once/rf2's 1.4 million states: 3.9 s -> 4.4 s); the default verify builds 48 modules
# on a first run.  Bigger worlds (--bound) keep -O1.  A module's source says which it wants
# (QUICK_MARK, see deliverycheck.native.search.module_of).
QUICK_FLAGS = ("-O0", "-fPIC", "-shared", "-pthread", "-fno-strict-aliasing")
QUICK_MARK = "/* deliverycheck: a small world's module, built quickly */\n"
SEARCH_C = Path(__file__).with_name("search.c")


class BuildError(Exception):
    """The native module could not be built; the message is one line."""


def cache_dir() -> Path:
    """Where built libraries are kept."""
    root = os.environ.get("DELIVERYCHECK_CACHE")
    if root:
        return Path(root) / "native"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deliverycheck" / "native"


def compiler() -> str | None:
    """The C compiler to use, or None when the machine has none."""
    cc = os.environ.get("CC")
    if cc:
        return shutil.which(cc)
    return shutil.which("cc") or shutil.which("gcc")


@lru_cache(maxsize=None)
def _compiler_id(cc: str) -> str:
    try:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BuildError(f"the C compiler {cc} does not run: {e}") from None
    return out.stdout.splitlines()[0] if out.stdout else cc


def flags_for(source: str) -> tuple[str, ...]:
    """The compiler flags for ``source``: QUICK_FLAGS when it starts with QUICK_MARK."""
    return QUICK_FLAGS if source.startswith(QUICK_MARK) else FLAGS


def full_source(model_source: str) -> str:
    """The translation unit: the generated model, then the search."""
    return model_source + "\n" + SEARCH_C.read_text()


def build(model_source: str, timeout: float | None = None) -> tuple[ctypes.CDLL, bool]:
    """The loaded library for ``model_source``, and whether it came from the cache.

    A module :func:`prebuild` is compiling is waited for, not compiled
    again.  Raises :class:`BuildError` (no compiler, a compiler error: its
    first line) and lets ``subprocess.TimeoutExpired`` through when
    ``timeout`` seconds pass.
    """
    cc = compiler()
    if cc is None:
        raise BuildError("no C compiler found (install gcc, or set CC)")
    source = full_source(model_source)
    key, lib = _target(cc, source)
    if lib.exists():
        return ctypes.CDLL(str(lib)), True
    with _LOCK:
        job = _JOBS.get(str(lib))
        if job is None and lib.exists():   # a background build finished just now
            return ctypes.CDLL(str(lib)), False
        mine = job is None
        if mine:   # compiled here; a prebuild of the same source waits for it instead
            job = _JOBS[str(lib)] = _Job()
    if mine:
        try:
            _compile(cc, source, key, lib, timeout, job)
        except BaseException as e:
            job.error = e if isinstance(e, BuildError) else BuildError(f"the build was stopped: {e!r}")
            raise
        finally:
            job.done.set()
            with _LOCK:   # done: the cache has it; failed or stopped: it may be tried again
                del _JOBS[str(lib)]
        return ctypes.CDLL(str(lib)), False
    if not job.done.wait(timeout):
        raise subprocess.TimeoutExpired(cc, timeout or 0)
    if job.error is not None:
        raise job.error
    return ctypes.CDLL(str(lib)), False


def _target(cc: str, source: str) -> tuple[str, Path]:
    """The cache key of ``source`` built by ``cc``, and where its library goes."""
    key = hashlib.sha256("\0".join([source, _compiler_id(cc), *flags_for(source)]).encode()).hexdigest()[:32]
    return key, cache_dir() / f"{key}.so"


def _compile(cc: str, source: str, key: str, lib: Path, timeout: float | None,
             job: "_Job | None" = None) -> None:
    """Compile ``source`` into ``lib`` (under a temporary name, renamed into place)."""
    try:
        lib.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BuildError(f"cannot create the cache folder {lib.parent}: {e.strerror}") from None
    with tempfile.TemporaryDirectory(prefix="deliverycheck-") as tmp:
        c_file = Path(tmp) / "model.c"
        c_file.write_text(source)
        partial = lib.parent / f".{key}.{os.getpid()}.{threading.get_ident()}.so"
        # its own process group: the compiler driver's children (cc1, as) are stopped with it
        proc = subprocess.Popen([cc, *flags_for(source), "-o", str(partial), str(c_file)],
                                start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if job is not None:
            job.proc, job.partial, job.folder = proc, partial, Path(tmp)
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except BaseException:   # a time limit, Ctrl-C: no compiler left behind, no half file
            _kill(proc)
            partial.unlink(missing_ok=True)
            raise
        if proc.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BuildError(f"the C compiler failed: {_first_error(stderr)}")
        os.replace(partial, lib)


@dataclass
class _Job:
    """A module being compiled in the background."""

    done: threading.Event = field(default_factory=threading.Event)
    error: BuildError | None = None
    proc: subprocess.Popen | None = None
    partial: Path | None = None     # the library being written
    folder: Path | None = None      # the generated C


_LOCK = threading.Lock()
_JOBS: dict[str, _Job] = {}   # library path -> its build in progress (or failed in the background)


def prebuild(sources: Iterable[Callable[[], str]], workers: int | None = None) -> None:
    """Compile, in the background, the modules whose generated model ``sources`` give.

    Each element is called (in a background thread) for a module's
    generated C; the modules not in the cache are compiled, at most
    ``workers`` (default: the cores) at a time.  Nothing is reported here:
    :func:`build` of the same source waits for the result, and a module
    nobody asks for is simply in the cache.  Without a compiler this does
    nothing (``build`` says so).
    """
    cc = compiler()
    if cc is None:
        return
    slots = threading.Semaphore(max(1, workers or os.cpu_count() or 1))

    def one(source: str, key: str, lib: Path, job: _Job) -> None:
        try:
            _compile(cc, source, key, lib, None, job)
        except BuildError as e:
            job.error = e
        except Exception as e:   # the compiler could not even run: said like build's own failure
            job.error = BuildError(f"the C compiler failed: {e}")
        finally:
            with _LOCK:   # built: the cache has it; failed: kept, so build() reports it unasked
                if job.error is None:
                    del _JOBS[str(lib)]
            job.done.set()
            slots.release()

    def schedule() -> None:
        for make in sources:
            try:
                source = full_source(make())
            except Exception:   # a model build() will report itself (Unsupported, a model error)
                continue
            key, lib = _target(cc, source)
            with _LOCK:
                if lib.exists() or str(lib) in _JOBS:
                    continue
                job = _JOBS[str(lib)] = _Job()
            slots.acquire()
            threading.Thread(target=one, args=(source, key, lib, job), daemon=True,
                             name=f"deliverycheck-build-{key[:8]}").start()

    threading.Thread(target=schedule, daemon=True, name="deliverycheck-prebuild").start()


@atexit.register
def _stop_background_builds() -> None:
    """At exit (an interrupted or finished run), no compiler keeps running and no half file stays."""
    with _LOCK:
        jobs = list(_JOBS.values())
    for job in jobs:
        if job.proc is not None and job.proc.poll() is None:
            _kill(job.proc)
            if job.partial is not None:
                job.partial.unlink(missing_ok=True)
            if job.folder is not None:   # its thread will not get to remove it
                shutil.rmtree(job.folder, ignore_errors=True)


def _kill(proc: subprocess.Popen) -> None:
    """Stop a compiler and every process it started (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _first_error(stderr: str) -> str:
    """The compiler's first error line (else its first line)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "error" in ln:
            return ln
    return lines[0] if lines else "no message"
