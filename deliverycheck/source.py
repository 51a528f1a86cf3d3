"""Where the specification comes from: the checkout being worked on, or the installed copy.

The specification is three things: ``model/`` (what Kafka does),
``properties/`` (what it promises) and ``properties/expected.toml`` (what
each mode is expected to keep and break).  The installed package carries a
copy of them, and a non-editable install (``pip install .``) keeps the copy
it was built from: an edit to the checkout would then be silently ignored,
and a CI gate would pass a broken protocol.  So before anything imports the
model, the command line picks the specification (:func:`select`):

* ``--spec DIR``: the folder DIR (a checkout, or any folder holding
  ``model/`` and ``properties/``);
* ``--spec installed``: the installed copy;
* neither: the checkout that contains the working directory, if there is
  one, else the installed copy.

A specification that is not the installed copy is loaded in its place by
an import hook for ``deliverycheck.model`` and ``deliverycheck.properties``
(the mapping setuptools' own editable installs make).  Every run names the
folders it read and a short content hash of the model (:class:`Source`),
so a CI log shows what was checked.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from deliverycheck.errors import UsageError

PACKAGES = {"deliverycheck.model": "model", "deliverycheck.properties": "properties"}
INSTALLED = "installed"


@dataclass(frozen=True)
class Source:
    """The specification a run reads, and how it was chosen."""

    root: Path | None        # the folder holding model/ and properties/ (None: the installed copy)
    model: Path              # the model/ folder
    properties: Path         # the properties/ folder
    installed: bool          # the installed package reads these very folders (editable install)
    engine_differs: bool = False   # root's deliverycheck/ is not the checker that is running

    @property
    def expected(self) -> Path:
        """The expectations file of this specification."""
        return self.properties / "expected.toml"

    @property
    def hash(self) -> str:
        """A short content hash of the specification (every .py file of model/ and properties/)."""
        return tree_hash([self.model, self.properties])

    @property
    def origin(self) -> str:
        """``checkout`` (the folders of ``root``, loaded in place of the installed copy),
        ``editable`` (the installed package is ``root``) or ``installed``."""
        if self.root is None:
            return "installed"
        return "editable" if self.installed else "checkout"

    def describe(self) -> str:
        """One line saying what was read: ``model 3f2a9c1b0e12 from /path (...)``."""
        where = {"installed": "the installed copy",
                 "editable": "this checkout, installed in editable mode",
                 "checkout": "this checkout, read in place of the installed copy"}[self.origin]
        place = self.model.parent if self.root is not None else self.model
        return f"model {self.hash} from {place} ({where})"

    def as_json(self) -> dict:
        """The ``source`` object of the ``--json`` documents."""
        return {"model": str(self.model), "properties": str(self.properties),
                "origin": self.origin, "hash": self.hash}


def tree_hash(folders: list[Path], skip: tuple[str, ...] = ()) -> str:
    """sha256 over the relative names and bytes of every ``.py`` file under ``folders`` (12 hex
    digits), leaving out the top-level subfolders named in ``skip``."""
    h = hashlib.sha256()
    for folder in folders:
        for f in sorted(folder.rglob("*.py")):
            rel = f.relative_to(folder).parts
            if "__pycache__" in rel or rel[0] in skip:
                continue
            h.update(f"{folder.name}/{f.relative_to(folder).as_posix()}\0".encode())
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:12]


def file_hash(path: Path) -> str:
    """sha256 of one file (12 hex digits)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def is_spec_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a specification (``model/`` and ``properties/`` packages)."""
    return (folder / "model" / "__init__.py").is_file() and \
        (folder / "properties" / "__init__.py").is_file()


def find_checkout(start: Path) -> Path | None:
    """The deliverycheck checkout containing ``start`` (its pyproject names the project), or None."""
    for folder in (start, *start.parents):
        project = folder / "pyproject.toml"
        if project.is_file() and is_spec_folder(folder):
            try:
                text = project.read_text()
            except OSError:
                continue
            if 'name = "deliverycheck"' in text:
                return folder
    return None


def installed_folders() -> tuple[Path, Path]:
    """The model/ and properties/ folders the installed package imports (without our hook)."""
    global _installed
    if _installed is None:
        hook = _hook()
        if hook is not None:
            sys.meta_path.remove(hook)
        try:
            out = []
            for name in PACKAGES:
                spec = importlib.util.find_spec(name)
                if spec is None or not spec.submodule_search_locations:
                    raise UsageError(f"the installed deliverycheck has no {name}; reinstall it "
                                     "(pip install -e .)")
                out.append(Path(list(spec.submodule_search_locations)[0]).resolve())
        finally:
            if hook is not None:
                sys.meta_path.insert(0, hook)
        _installed = (out[0], out[1])
    return _installed


_installed: tuple[Path, Path] | None = None
_chosen: Source | None = None


def select(spec: str | None, cwd: Path | None = None) -> Source:
    """Choose the specification for this process (see the module docstring) and return it.

    Must run before the model is imported; choosing a second, different
    one in the same process is refused (the modules are loaded once).
    """
    global _chosen
    if spec == INSTALLED:
        root = None
    elif spec is not None:
        root = Path(spec).expanduser().resolve()
        if not root.is_dir():
            raise UsageError(f"--spec {spec!r} is not a folder; give a checkout (a folder with "
                             "model/ and properties/) or 'installed'")
        if not is_spec_folder(root):
            raise UsageError(f"--spec {spec!r} holds no model/ and properties/ packages; give a "
                             "deliverycheck checkout or 'installed'")
    else:
        root = find_checkout((cwd or Path.cwd()).resolve())
    model, props = installed_folders()
    if root is None:
        source = Source(None, model, props, installed=True)
    else:
        mine = (root / "model").resolve(), (root / "properties").resolve()
        source = Source(root, *mine, installed=(model, props) == mine,
                        engine_differs=_engine_differs(root))
    for name, folder in zip(PACKAGES, (source.model, source.properties)):
        loaded = sys.modules.get(name)
        where = getattr(loaded, "__file__", None)
        if where and Path(where).resolve().parent != folder:
            raise UsageError(f"{name} is already loaded from {Path(where).parent} in this process; "
                             f"run a new process to check {folder}")
    _load_in_place(None if source.installed else (source.model, source.properties))
    _chosen = source
    return source


def chosen() -> Source:
    """The specification of this process (the default one if none was selected)."""
    return _chosen if _chosen is not None else select(None)


def _engine_differs(root: Path) -> bool:
    """Whether ``root`` has a deliverycheck/ package other than the one running now."""
    mine = root / "deliverycheck"
    running = Path(__file__).resolve().parent
    if not (mine / "__init__.py").is_file() or mine.resolve() == running:
        return False
    # an installed package holds model/ and properties/ inside it: the engine is the rest
    skip = tuple(PACKAGES.values())
    return tree_hash([mine], skip) != tree_hash([running], skip)


class _InPlace(importlib.abc.MetaPathFinder):
    """Import ``deliverycheck.model`` and ``.properties`` from the chosen folders."""

    def __init__(self, folders: tuple[Path, Path]):
        self.folders = folders
        self.by_name = dict(zip(PACKAGES, folders))

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 - importlib API
        folder = self.by_name.get(fullname)
        if folder is None:
            return None   # submodules are found through the package's __path__
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)])


def _hook() -> _InPlace | None:
    return next((f for f in sys.meta_path if isinstance(f, _InPlace)), None)


def _load_in_place(folders: tuple[Path, Path] | None) -> None:
    """Make the model and properties packages import from ``folders`` (None: the installed copy)."""
    hook = _hook()
    if hook is not None and hook.folders != folders:
        sys.meta_path.remove(hook)
        hook = None
    if hook is None and folders is not None:
        sys.meta_path.insert(0, _InPlace(folders))


def load_spec():
    """The specification (``deliverycheck.catalog.SPEC``), imported from the chosen folders.

    A model that does not even import (a syntax error, a name that does
    not exist) is a one-line model error naming the file and line.
    """
    chosen()
    try:
        from deliverycheck.catalog import SPEC
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001 - anything the user's model raises on import
        from deliverycheck.errors import ModelError
        raise ModelError(f"the specification in {chosen().model.parent} does not load: "
                         f"{type(e).__name__}: {e}{_where(e)}") from None
    return SPEC


def _where(e: BaseException) -> str:
    """`` (model/partition.py, line 12)``: the last place in the specification the error passed."""
    import traceback
    s = chosen()
    spots = []
    if isinstance(e, SyntaxError) and e.filename:
        spots.append((e.filename, e.lineno))
    spots += [(f.filename, f.lineno) for f in traceback.extract_tb(e.__traceback__)]
    for filename, line in reversed(spots):
        path = Path(filename).resolve()
        for folder in (s.model, s.properties):
            if folder in path.parents:
                return f" ({folder.name}/{path.relative_to(folder).as_posix()}, line {line})"
    return ""
