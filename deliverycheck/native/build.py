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
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

FLAGS = ("-O1", "-fPIC", "-shared", "-pthread", "-fno-strict-aliasing")
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


def full_source(model_source: str) -> str:
    """The translation unit: the generated model, then the search."""
    return model_source + "\n" + SEARCH_C.read_text()


def build(model_source: str, timeout: float | None = None) -> tuple[ctypes.CDLL, bool]:
    """The loaded library for ``model_source``, and whether it came from the cache.

    Raises :class:`BuildError` (no compiler, a compiler error: its first
    line) and lets ``subprocess.TimeoutExpired`` through when ``timeout``
    seconds pass.
    """
    cc = compiler()
    if cc is None:
        raise BuildError("no C compiler found (install gcc, or set CC)")
    source = full_source(model_source)
    key = hashlib.sha256("\0".join([source, _compiler_id(cc), *FLAGS]).encode()).hexdigest()[:32]
    folder = cache_dir()
    lib = folder / f"{key}.so"
    if lib.exists():
        return ctypes.CDLL(str(lib)), True
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BuildError(f"cannot create the cache folder {folder}: {e.strerror}") from None
    with tempfile.TemporaryDirectory(prefix="deliverycheck-") as tmp:
        c_file = Path(tmp) / "model.c"
        c_file.write_text(source)
        partial = folder / f".{key}.{os.getpid()}.so"
        try:
            done = subprocess.run([cc, *FLAGS, "-o", str(partial), str(c_file)],
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            partial.unlink(missing_ok=True)
            raise
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BuildError(f"the C compiler failed: {_first_error(done.stderr)}")
        os.replace(partial, lib)
    return ctypes.CDLL(str(lib)), False


def _first_error(stderr: str) -> str:
    """The compiler's first error line (else its first line)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if "error" in ln:
            return ln
    return lines[0] if lines else "no message"
