"""The audit key: a secret kept outside the database that signs the audit log.

`tranche init` creates it (32 random bytes, hex, in a file of mode 0600) when
it does not exist; every write signs the entries it appends and the log's head
with HMAC-SHA256 under it; `tranche audit verify` checks the signatures when
it can read the key.  Someone who can change the database but cannot read the
key cannot forge a signed entry or head.

Where the key is: ``TRANCHE_AUDIT_KEY`` (a file path), else, for an SQLite
database, the file beside it with ``.key`` added (``tranche.db.key``), else
(PostgreSQL) ``$XDG_CONFIG_HOME/tranche/audit.key`` (``~/.config/...``).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> key_path(f"sqlite:///{folder}/team.db") == folder / "team.db.key"
True
>>> k = ensure_key(folder / "team.db.key"); len(k), oct((folder / "team.db.key").stat().st_mode & 0o777)
(32, '0o600')
>>> sign(k, "head", "x") == sign(k, "head", "x") != sign(k, "entry", "x")
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from ..errors import StoreError

__all__ = ["ENV_KEY", "key_path", "read_key", "ensure_key", "sign"]

ENV_KEY = "TRANCHE_AUDIT_KEY"


def key_path(url: str | URL) -> Path:
    """Where the audit key of the database at ``url`` is kept (see the module's docstring)."""
    given = os.environ.get(ENV_KEY)
    if given:
        return Path(given).expanduser()
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return Path(parsed.database + ".key")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "tranche" / "audit.key"


def _parse(text: str, path: Path) -> bytes:
    raw = text.strip()
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise StoreError(f"`{path}` is not an audit key", help="an audit key is at least 32 hex digits, as written by "
                                                              "`tranche init`; point TRANCHE_AUDIT_KEY at the right file")
    return key


def read_key(path: Path) -> bytes | None:
    """The key in ``path``, or None when there is no such file."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read the audit key `{path}`: {exc.strerror}",
                         help="check the file's permissions, or set TRANCHE_AUDIT_KEY") from None
    if not text.strip():  # being written by a concurrent `tranche init`
        time.sleep(0.2)
        text = path.read_text(encoding="ascii", errors="replace")
    return _parse(text, path)


def ensure_key(path: Path) -> bytes:
    """The key in ``path``, created (mode 0600, exclusively: concurrent callers agree) when missing."""
    existing = read_key(path)
    if existing is not None:
        return existing
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        found = read_key(path)
        assert found is not None
        return found
    except OSError as exc:
        raise StoreError(f"cannot create the audit key `{path}`: {exc.strerror}",
                         help="choose a writable place with TRANCHE_AUDIT_KEY") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def sign(key: bytes, domain: str, text: str) -> str:
    """HMAC-SHA256 of ``domain:text`` under ``key``, hex (domains keep an entry's and a head's apart)."""
    return hmac.new(key, f"{domain}:{text}".encode("utf-8"), hashlib.sha256).hexdigest()
