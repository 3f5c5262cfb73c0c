"""Law packs: law shared by scenarios, found by an explicit, checked path.

A **law pack** is a folder holding ``pack.yaml`` (what the pack is), ``law.yaml``
(its rules and exemption classes), ``sources.yaml`` (its citations) and, optionally,
``facts.yaml`` (the facts its rules name, with their roles).  A scenario includes
packs in its ``law.yaml``::

    include: [../../packs/faa-1961, ../../packs/sec-7008]

The path is the scenario's explicit reference, so it may leave the scenario folder
(``..``), but it is checked before anything is read (:func:`pack_folder`):

* it is relative (not absolute, not ``~``, not a URL) and names a folder that holds a
  ``pack.yaml``;
* no folder on the way from where the scenario and the pack part is a symbolic link
  (a link could send an innocent-looking path anywhere on the machine);
* the pack's files are then read as a scenario's are: regular files inside the pack
  folder, bounded in size and depth (:func:`tranche.language.syntax.check_file`);
* at most :data:`MAX_PACKS` packs, each once.

Everything in a pack is checked against the including scenario's vocabulary (its
flags, channels, attributes, taxonomy) and its errors name the pack's file, line and
column.  This module finds and reads the folders; :mod:`.validate` builds what they
say into the scenario.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Diagnostic, Span

__all__ = ["MAX_PACKS", "PACK_FILES", "PackRef", "pack_folder"]

MAX_PACKS = 32
PACK_FILES = ("pack.yaml", "law.yaml", "sources.yaml", "facts.yaml")


@dataclass
class PackRef:
    """One included pack folder: where it is, how its files are displayed, and what they hold once read."""

    written: str  # the path as written in `include`
    folder: Path  # the folder, absolute and normalised (no `..`)
    shown: str  # the folder as diagnostics show it (relative where the scenario path is)
    index: int  # its position in `include`
    files: dict[str, object] = field(default_factory=dict)  # file name -> model (None when unreadable)

    def key(self, name: str) -> str:
        """How the pack's file ``name`` is displayed (and keyed in the checker's positions)."""
        return os.path.normpath(os.path.join(self.shown, name))


def _refuse(message: str, span: Span, help: str) -> Diagnostic:
    return Diagnostic("bad-include", message, span, help)


def pack_folder(root: Path, written: str, span: Span) -> tuple[Path, str] | Diagnostic:
    """The pack folder ``written`` names from the scenario folder ``root``: (absolute folder, displayed
    path), or why it is refused (decided from names and metadata only; nothing is opened)."""
    fix = "write the pack folder's path relative to the scenario folder, e.g. `../../packs/faa-1961`"
    if not isinstance(written, str) or not written.strip() or "\x00" in written:
        return _refuse("`include`: a pack path must be a non-empty path", span, fix)
    if "://" in written or written.startswith("~") or Path(written).is_absolute() or (
            len(written) > 1 and written[1] == ":"):
        return _refuse(f"`include`: `{written}` is not a path relative to the scenario folder", span, fix)
    base = Path(os.path.abspath(root))
    target = Path(os.path.normpath(base / written))
    try:
        common = Path(os.path.commonpath([base, target]))
    except ValueError:
        return _refuse(f"`include`: `{written}` is not a path relative to the scenario folder", span, fix)
    if target == common:
        return _refuse(f"`include`: `{written}` names the scenario folder or a folder holding it, not a law pack",
                       span, fix)
    cur = common
    for part in target.relative_to(common).parts:
        cur = cur / part
        try:
            info = os.lstat(cur)
        except FileNotFoundError:
            return _refuse(f"`include`: no folder `{written}` (looked for `{os.path.normpath(root / written)}`)",
                           span, fix)
        except OSError as exc:
            return _refuse(f"`include`: `{written}` cannot be read: {exc.strerror}", span, fix)
        if stat.S_ISLNK(info.st_mode):
            return _refuse(f"`include`: `{written}` passes through the link `{cur.name}`; links are not followed",
                           span, "name the pack folder itself, not a link to it")
        if not stat.S_ISDIR(info.st_mode):
            return _refuse(f"`include`: `{written}` is not a folder", span,
                           "a law pack is a folder holding pack.yaml, law.yaml and sources.yaml")
    shown = os.path.normpath(os.path.join(str(root), written))
    if not os.path.lexists(target / "pack.yaml"):
        return _refuse(f"`include`: `{written}` is not a law pack: it has no pack.yaml", span,
                       "a law pack is a folder holding pack.yaml, law.yaml and sources.yaml; see docs/format.md")
    return target, shown
