"""`make soak`: a bounded load generator against `tranche serve` on loopback.

Starts `tranche serve` (one uvicorn process) over a fresh SQLite store with the Peru scenario and a viewer's
token, then drives it for ``--minutes`` (default 3) from this process with a closed loop of concurrent
clients at two concurrency levels, half the time each: single decisions (``GET .../items/{item}/decision``,
a random item, option and date each time, so that the evaluator cache is exercised and missed) and
comparisons (``GET .../compare`` of the memo's three options, one request in ten).  It records throughput,
p50/p99 latency per kind and the number of errors (any status but 200, or a failed connection), prints them
and writes the ``## Soak`` section of bench/RESULTS.md.

    .venv/bin/python bench/soak.py --minutes 3 [--concurrency 1,4] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
RESULTS = ROOT / "bench" / "RESULTS.md"
OPTIONS = ("limited", "recommended", "full")


def _setup(folder: Path) -> tuple[str, str, list[str]]:
    sys.path.insert(0, str(ROOT))
    import tranche.store as store
    from tranche.language import load_scenario

    url = f"sqlite:///{folder / 'soak.db'}"
    store.init_db(url, admin="admin", actor="admin")
    s = load_scenario(PERU)
    with store.open_db(url) as db:
        store.add_user(db, "loader", "approver", "admin")
        store.load(db, s, "loader")
        _, token = store.add_user_with_token(db, "soak", "viewer", "admin", "SECRET")
    return url, token, [i.id for i in s.items]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a client can be: the load generator runs on the same two
    cores as the server, and a heavy client (httpx costs more CPU per request than the server) would measure
    itself.  GET only; responses with a Content-Length (uvicorn's for every response of the API)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode("latin-1")
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(f"GET {path} HTTP/1.1\r\n".encode("latin-1") + self.head)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            length = next(int(x.split(":", 1)[1]) for x in lines[1:] if x.lower().startswith("content-length:"))
            body = await reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if any(x.lower() == "connection: close" for x in lines):
            self.close()
        return status, body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _worker(conn: _Connection, items: list[str], until: float, out: dict[str, list[float]],
                  errors: list[str]) -> None:
    rng = random.Random()
    while time.monotonic() < until:
        if rng.random() < 0.1:
            kind = "compare"
            path = ("/api/scenarios/peru-1962/compare?as_of=1962-10-03&options=limited,recommended,full"
                    "&assume=congress.appropriation.FY1963")
        else:
            kind = "decision"
            day = dt.date(1962, 7, 1) + dt.timedelta(days=rng.randrange(150))
            path = (f"/api/scenarios/peru-1962/items/{rng.choice(items)}/decision?as_of={day}"
                    f"&regime={rng.choice(OPTIONS)}")
        start = time.perf_counter()
        try:
            status, body = await asyncio.wait_for(conn.get(path), 30)
            ok = status == 200 and body[:1] == b"{"
            if not ok:
                errors.append(f"{status} {path}")
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                StopIteration, ValueError) as exc:
            ok = False
            errors.append(f"{type(exc).__name__} {path}")
        if ok:
            out[kind].append(time.perf_counter() - start)


async def _level(base: str, token: str, items: list[str], concurrency: int, seconds: float
                 ) -> tuple[dict[str, list[float]], list[str], float]:
    out: dict[str, list[float]] = {"decision": [], "compare": []}
    errors: list[str] = []
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    conns = [_Connection(host, int(port), token) for _ in range(concurrency)]
    start = time.monotonic()
    until = start + seconds
    try:
        await asyncio.gather(*(_worker(c, items, until, out, errors) for c in conns))
    finally:
        for c in conns:
            c.close()
    elapsed = time.monotonic() - start
    return out, errors, elapsed


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--concurrency", default="1,4", help="concurrency levels, each run for an equal share")
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    load = os.getloadavg()[0]  # the other sessions' share of the two cores, for the record
    with tempfile.TemporaryDirectory(prefix="tranche-soak-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "TRANCHE_AUDIT_KEY": str(folder / "audit.key"), "PYTHONPATH": str(ROOT)}
        os.environ["TRANCHE_AUDIT_KEY"] = env["TRANCHE_AUDIT_KEY"]
        url, token, items = _setup(folder)
        port = _port()
        server = subprocess.Popen([sys.executable, "-m", "tranche", "--db", url, "serve", "--host", "127.0.0.1",
                                   "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    print("tranche serve did not start", file=sys.stderr)
                    return 1
                time.sleep(0.2)
            rows = []
            seconds = 60 * args.minutes / len(levels)
            for c in levels:
                out, errors, elapsed = asyncio.run(_level(base, token, items, c, seconds))
                n = sum(len(v) for v in out.values())
                row = {"concurrency": c, "seconds": elapsed, "requests": n + len(errors), "rps": n / elapsed,
                       "errors": len(errors), "first_errors": errors[:3],
                       **{f"{k}_{q}": _ms(out[k], p) for k in out for q, p in (("p50", 0.5), ("p99", 0.99))},
                       **{f"{k}_n": len(out[k]) for k in out},
                       "decision_mean": 1000 * statistics.fmean(out["decision"]) if out["decision"] else 0.0}
                rows.append(row)
                print(f"concurrency {c}: {row['rps']:.0f} req/s over {elapsed:.0f} s; decision p50 "
                      f"{row['decision_p50']:.1f} ms p99 {row['decision_p99']:.1f} ms ({row['decision_n']}); compare "
                      f"p50 {row['compare_p50']:.1f} ms p99 {row['compare_p99']:.1f} ms ({row['compare_n']}); "
                      f"errors {row['errors']} {row['first_errors']}")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
    if not args.no_write:
        _write(rows, args.minutes, load)
    return 0 if all(r["errors"] == 0 for r in rows) else 2


def _write(rows: list[dict[str, object]], minutes: float, load: float) -> None:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Soak: `tranche serve` under load (`make soak`)", "",
        f"Command: `SOAK_MINUTES={minutes:g} make soak` (`bench/soak.py --minutes {minutes:g}`).", "",
        f"Run: {now}, Python {platform.python_version()}, {os.cpu_count()} cores (shared with other sessions: "
        f"load average {load:.1f} when it began), {minutes:g} minutes in all. `bench/soak.py` starts `tranche serve` (one uvicorn process, SQLite store, "
        "the Peru scenario) and drives it on loopback from one asyncio process with a closed loop of N concurrent "
        "clients, each sending the next request when the last one is answered: 90% single decisions of a random "
        "item under a random option on a random date (JSON explanation included), 10% comparisons of the memo's "
        "three options. Authenticated with a viewer's bearer token. Each client is one keep-alive HTTP/1.1 "
        "connection written with asyncio streams (httpx cost more CPU per request than the server). Latency is "
        "measured by the client (it includes the client's own time on the same two cores).", "",
        "| clients | requests | throughput req/s | decision p50 ms | decision p99 ms | compare p50 ms | compare p99 ms | errors |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['concurrency']} | {r['requests']:,} | {r['rps']:.0f} | {r['decision_p50']:.1f} | "
                     f"{r['decision_p99']:.1f} | {r['compare_p50']:.1f} | {r['compare_p99']:.1f} | {r['errors']} |")
    top = max(rows, key=lambda r: float(str(r["concurrency"])))
    p99 = float(str(top["decision_p99"]))
    errors = sum(int(str(r["errors"])) for r in rows)
    lines += ["", f"Goal: no error, and p99 under 50 ms for single decisions at the highest level "
                  f"({top['concurrency']} clients): {errors} error(s), p99 {p99:.1f} ms -- "
                  f"**{'met' if errors == 0 and p99 < 50 else 'missed'}**."]
    lines.append("")
    section = "\n".join(lines) + "\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n\n"
    if "## Soak" in text:
        text = re.sub(r"## Soak.*?(?=\n## |\Z)", section.rstrip("\n") + "\n", text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
