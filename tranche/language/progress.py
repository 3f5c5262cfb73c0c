"""Progress of long work, reported through one callback signature that every layer uses.

A long operation -- reading a pipeline of a million lines (``check``, ``load``), writing its
items to the store, deciding items in bulk -- takes an optional :data:`Progress` and calls it
with ``(what, done, total)``: ``done`` units of ``what`` (``"lines"``, ``"items"``,
``"decisions"``) out of ``total`` known (``None`` while the total is not known).  A call with a
new ``what`` starts a new phase.  Calls are cheap for the caller to make and are throttled here
(:class:`Meter`, :func:`counted`), so a loop can report every row; what shows them (a bar on a
terminal, nothing at all) is the command line's business (``tranche.cli.progress``).

The operations that report:

* ``tranche.language.check(path, progress=...)``: ``lines`` of ``pipeline.csv`` read, of the
  lines in the file;
* ``tranche.store.load(..., on_progress=...)``: ``items`` written, of the scenario's items;
* ``tranche.compiler.run.bulk(..., progress=...)`` and ``bulk_spark``: ``decisions`` written, of
  items x (option, date) pairs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

__all__ = ["Progress", "Meter", "counted", "count_lines"]

Progress = Callable[[str, int, "int | None"], None]
"""Called with ``(what, done, total)``; ``total`` None: not known yet."""

T = TypeVar("T")
INTERVAL = 0.1  # seconds between two reports of one meter (a terminal redraws no faster)


class Meter:
    """Counts units of work and reports them to a :data:`Progress`, at most every :data:`INTERVAL` seconds.

    >>> seen = []
    >>> m = Meter(lambda *a: seen.append(a), "lines", 3)
    >>> for _ in range(3):
    ...     m.add()
    >>> m.finish()
    >>> seen[0], seen[-1]
    (('lines', 0, 3), ('lines', 3, 3))
    """

    def __init__(self, progress: Progress | None, what: str, total: int | None = None, *, check_every: int = 1024):
        self.progress = progress
        self.what = what
        self.total = total
        self.done = 0
        self._check = max(1, check_every)  # the clock is read once per this many units
        self._next = self._check
        self._stamp = time.monotonic()
        if progress is not None:
            progress(what, 0, total)

    def add(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self._next:
            self._tick()

    def update(self, done: int) -> None:
        """Set the count (e.g. the line number reached)."""
        self.done = done
        if done >= self._next:
            self._tick()

    def _tick(self) -> None:
        self._next = self.done + self._check
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self._stamp >= INTERVAL:
            self._stamp = now
            self.progress(self.what, self.done, self.total)

    def finish(self) -> None:
        """The work is complete: report it (done = total; an unknown total becomes the count)."""
        self.done = self.total = self.done if self.total is None else max(self.done, self.total)
        if self.progress is not None:
            self.progress(self.what, self.done, self.total)


def counted(items: Iterable[T], progress: Progress | None, what: str, total: int | None = None) -> Iterator[T]:
    """``items``, reporting how many were taken (nothing when ``progress`` is None).

    >>> seen = []
    >>> list(counted("abc", lambda *a: seen.append(a), "letters", 3)), seen[-1]
    (['a', 'b', 'c'], ('letters', 3, 3))
    """
    if progress is None:
        yield from items
        return
    meter = Meter(progress, what, total)
    for item in items:
        yield item
        meter.add()
    meter.finish()


def count_lines(path: Path, chunk: int = 1 << 20) -> int:
    """The number of lines of a text file (its newlines, plus a last line without one): a fast, binary pass."""
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while data := f.read(chunk):
            count += data.count(b"\n")
            last = data[-1:]
    return count + (last != b"\n")
