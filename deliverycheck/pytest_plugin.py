"""A pytest plugin: assert in a team's own tests that its Kafka configuration keeps its promises.

Registered by entry point (``pytest11``), so installing deliverycheck is
enough.  It gives a fixture, ``deliverycheck``::

    def test_orders_pipeline(deliverycheck):
        deliverycheck.assert_keeps("no-loss", "order",
                                   producer="config/producer.properties",
                                   consumer="config/consumer.properties", kafka="3.9")

A broken promise fails the test with the shortest story that breaks it;
a promise the search could not decide fails it too (never a pass).
Relative file names are read from the test file's folder.

A team's own protocol variant: ``variant_changes={"strict_markers": False}``
(knobs of model/variants.py) or ``mode_changes=...``; a changed action: a
copy of deliverycheck's ``model/`` and ``properties/`` folders in the
team's repository, named by the ini option ``deliverycheck_spec`` (or
``--deliverycheck-spec DIR``), which the plugin loads in place of the
installed specification before any test runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pytest

ROLES = ("producer", "consumer", "topic", "broker", "streams")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The spec folder option, on the command line and in the ini file."""
    parser.addini("deliverycheck_spec", "a folder with model/ and properties/ that deliverycheck "
                                        "checks in place of the installed specification")
    parser.getgroup("deliverycheck").addoption(
        "--deliverycheck-spec", metavar="DIR", default=None,
        help="a folder with model/ and properties/ to check in place of the installed ones")


def pytest_configure(config: pytest.Config) -> None:
    """Load a team's own specification, when one is named, before any test imports the model."""
    spec = config.getoption("--deliverycheck-spec") or config.getini("deliverycheck_spec")
    if spec:
        from deliverycheck import source
        from deliverycheck.errors import UsageError
        folder = Path(spec)
        if not folder.is_absolute():
            folder = Path(config.rootpath) / folder
        try:
            source.select(str(folder))
        except UsageError as e:
            raise pytest.UsageError(f"deliverycheck_spec: {e}") from None


class Checker:
    """What the ``deliverycheck`` fixture gives a test."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, p: str | Path) -> Path:
        path = Path(p)
        return path if path.is_absolute() else self.folder / path

    def check(self, *, kafka: str | None = None, client: str | None = None,
              sets: Iterable[str] = (), engine: str = "explore",
              bounds: Mapping[str, int] | None = None, fixes: bool = False,
              mode_changes: Mapping[str, Any] | None = None,
              variant_changes: Mapping[str, Any] | None = None, **files: Any):
        """Check a configuration (``producer=``, ``consumer=``, ``topic=``, ``broker=``,
        ``streams=``: a file or a list of files) and return the CheckResult."""
        from deliverycheck import check, load_config
        from deliverycheck.config import ConfigError
        unknown = set(files) - set(ROLES)
        if unknown:
            raise TypeError(f"unknown argument {', '.join(sorted(unknown))}: the files are "
                            f"{', '.join(ROLES)}")
        paths = {role: [self._path(f) for f in ([v] if isinstance(v, (str, Path)) else v)]
                 for role, v in files.items() if v}
        try:
            conf = load_config(paths, list(sets), kafka=kafka, client=client)
        except ConfigError as e:
            pytest.fail("the configuration cannot be checked:\n" + "\n".join(e.problems),
                        pytrace=False)
        return check(conf, engine=engine, bounds=dict(bounds or {}), fixes=fixes,
                     mode_changes=mode_changes, variant_changes=variant_changes)

    def assert_keeps(self, *promises: str, fixes: bool = True, **kwargs: Any):
        """Fail the test unless every promise named (deliverycheck.PROMISE_NAMES) holds; the
        failure names each broken one with its shortest story and the fixes found."""
        from deliverycheck import PROMISE_NAMES
        bad = [p for p in promises if p not in PROMISE_NAMES]
        if bad or not promises:
            raise ValueError(f"promises to assert: one or more of {', '.join(PROMISE_NAMES)}"
                             + (f" (not {', '.join(bad)})" if bad else ""))
        result = self.check(fixes=fixes, **kwargs)
        failed = []
        for name in promises:
            v = result.verdict(name)
            if v.verdict == "holds":
                continue
            if v.verdict == "not applicable":
                failed.append(f"{v.promise.title}: not applicable to this configuration")
                continue
            lines = [f"{v.promise.title}: {v.verdict} ({v.property_name})"]
            lines += [f"  holds with {' and '.join(f.changes)}"
                      + (f" (but breaks {', '.join(f.breaks)})" if f.breaks else "")
                      for f in v.fixes]
            if v.story:
                lines += ["", v.story.rstrip("\n")]
            failed.append("\n".join(lines))
        if failed:
            head = (f"deliverycheck: {len(failed)} of {len(promises)} promises not kept "
                    f"(mode {result.config.mode.name}, variant {result.config.variant.name})")
            pytest.fail("\n\n".join([head, *failed]), pytrace=False)
        return result


@pytest.fixture
def deliverycheck(request: pytest.FixtureRequest) -> Checker:
    """Check Kafka configurations against deliverycheck's model (see the module docstring)."""
    return Checker(Path(request.path).parent)
