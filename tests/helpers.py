"""Helpers shared by the test modules."""

from __future__ import annotations

import pytest

from tranche.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `tranche ARGV`; return (exit code, stdout, stderr), asserting no traceback reached the user."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    code = exc.value.code
    assert isinstance(code, int)
    return code, out, err
