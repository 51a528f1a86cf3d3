"""Reading a Java properties file as ``java.util.Properties.load`` reads it.

Kafka reads ``server.properties``, ``producer.properties`` and the rest
with ``Utils.loadProps``, which hands the file's bytes to
``Properties.load(InputStream)``: ISO-8859-1 text, and the grammar of
that method's Javadoc, followed here:

* a natural line ends at ``\\n``, ``\\r`` or ``\\r\\n``; leading blanks
  (space, tab, form feed) are skipped;
* a line whose first non-blank character is ``#`` or ``!`` is a comment,
  and a blank line is skipped; neither continues onto the next line;
* a line that ends in an odd number of backslashes continues on the next
  natural line, whose leading blanks are dropped;
* the key runs to the first unescaped ``=``, ``:`` or blank; blanks, one
  ``=`` or ``:``, and blanks again separate it from the value
  (``key=value``, ``key: value`` and ``key value`` are all one entry);
* in keys and values ``\\t``, ``\\n``, ``\\r``, ``\\f`` and ``\\uXXXX`` are
  escapes, and a backslash before any other character stands for that
  character; a malformed ``\\uXXXX`` is an error (Java throws
  ``IllegalArgumentException``);
* a key given twice keeps its last value.

Every entry keeps the line it starts on, so a report can say where a
value came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BLANKS = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


class PropertiesError(Exception):
    """The file cannot be read as a Java properties file (the message says why and where)."""


@dataclass(frozen=True)
class Entry:
    """One key and its value, and the line of the file it starts on."""

    key: str
    value: str
    line: int


def _logical_lines(text: str):
    """(first line number, logical line) pairs: comments and blank lines skipped, continuations joined."""
    natural = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    n = 0
    while n < len(natural):
        start = n
        line = natural[n].lstrip(BLANKS)
        n += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line) and n < len(natural):
            line = line[:-1] + natural[n].lstrip(BLANKS)
            n += 1
        if _continues(line):     # a backslash at the end of the file: dropped, as Java does
            line = line[:-1]
        yield start + 1, line


def _continues(line: str) -> bool:
    """The line ends in an odd number of backslashes."""
    run = len(line) - len(line.rstrip("\\"))
    return run % 2 == 1


def _unescape(s: str, line: int) -> str:
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch != "\\" or i + 1 == len(s):
            out.append(ch)
            i += 1
            continue
        nxt = s[i + 1]
        if nxt == "u":
            digits = s[i + 2:i + 6]
            if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise PropertiesError(f"line {line}: malformed \\uxxxx escape "
                                      f"{s[i:i + 6]!r} (Java needs four hex digits after \\u)")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def _split(line: str) -> tuple[str, str]:
    """Key and value of a logical line (still escaped)."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=:" or ch in BLANKS:
            break
        i += 1
    key, rest = line[:i], line[i:]
    rest = rest.lstrip(BLANKS)
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(BLANKS)
    return key, rest


def parse(text: str) -> list[Entry]:
    """The entries of properties ``text``, in file order, a repeated key keeping its last value."""
    entries: dict[str, Entry] = {}
    for number, line in _logical_lines(text):
        key, value = _split(line)
        k = _unescape(key, number)
        entries.pop(k, None)
        entries[k] = Entry(k, _unescape(value, number), number)
    return list(entries.values())


def read(path: Path) -> list[Entry]:
    """The entries of the properties file ``path`` (``PropertiesError`` when it is not one)."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise PropertiesError("is a directory, not a properties file") from None
    except FileNotFoundError:
        raise PropertiesError("does not exist") from None
    except OSError as e:
        raise PropertiesError(f"cannot be read ({e.strerror or e})") from None
    if b"\0" in data:
        raise PropertiesError("holds binary data, not Java properties text")
    text = data.decode("latin-1")   # Properties.load(InputStream) reads ISO-8859-1
    if text.lstrip()[:1] in ("{", "["):
        raise PropertiesError("looks like JSON, not a Java properties file "
                              "(one key=value per line, as Kafka's config files are)")
    return parse(text)
