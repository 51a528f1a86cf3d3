"""The documentation stays true to itself: every citation and link resolves in the repository.

Docstrings, expected.toml's reasons and the docs cite the protocol
reference as ``docs/protocol.md §N``; Markdown files link to files and
headings.  Nothing may cite material outside the repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _files(*suffixes: str) -> list[Path]:
    """The repository's own files (tracked or new, not ignored) with these suffixes."""
    try:
        out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        paths = [ROOT / p for p in out]
    except (OSError, subprocess.CalledProcessError):   # not a git checkout: every file
        paths = [p for p in ROOT.rglob("*") if ".venv" not in p.parts]
    return sorted(p for p in paths if p.suffix in suffixes and p.is_file())


SOURCES = _files(".py", ".md", ".toml", ".sh", ".yml", "")


def _sections(path: Path) -> set[str]:
    """The section numbers of a Markdown file's ``## N. Title`` headings."""
    return set(re.findall(r"^##\s+(\d+)\.", path.read_text(), flags=re.M))


def test_nothing_cites_material_outside_the_repository():
    bad = []
    for f in SOURCES:
        if f.name == "test_docs.py":
            continue
        text = f.read_text(errors="replace")
        for word in ("PROTOCOL.md", "DESIGN.md", "../shared", "shared/seed"):
            if word in text:
                bad.append(f"{f.relative_to(ROOT)}: {word}")
        for m in re.finditer(r"\bissue \d+\b", text):
            bad.append(f"{f.relative_to(ROOT)}: '{m.group(0)}' (the issue tracker is not in the repository)")
    assert not bad, bad


CITATION = re.compile(r"protocol\.md\)?\s*((?:§\d+(?:\s*[-–]\s*§\d+)?(?:,\s*)?)+)")


def test_every_protocol_citation_names_a_section_that_exists():
    sections = _sections(ROOT / "docs" / "protocol.md")
    assert len(sections) >= 10
    cited = 0
    bad = []
    for f in SOURCES:
        for m in CITATION.finditer(f.read_text(errors="replace")):
            for n in re.findall(r"§(\d+)", m.group(1)):
                cited += 1
                if n not in sections:
                    bad.append(f"{f.relative_to(ROOT)}: §{n}")
    assert cited > 20, "the model cites its protocol reference"
    assert not bad, bad


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#{1,6}\s+(.*)$", path.read_text(), flags=re.M)}


LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("doc", [p for p in _files(".md")], ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_links_resolve(doc):
    bad = []
    text = re.sub(r"```.*?```|`[^`]*`", "", doc.read_text(), flags=re.S)   # code is not a link
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):   # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            bad.append(f"{target}: no heading with that anchor")
    assert not bad, bad


PATH = re.compile(r"(?<![\w/.-])((?:docs|model|properties|deliverycheck|tests|benchmarks|counterexamples)/[\w./-]+\.(?:md|py|toml))\b")


def test_every_file_a_docstring_or_doc_names_exists():
    bad = []
    for f in SOURCES:
        for name in PATH.findall(f.read_text(errors="replace")):
            if not (ROOT / name).exists():
                bad.append(f"{f.relative_to(ROOT)}: {name}")
    assert not bad, bad
