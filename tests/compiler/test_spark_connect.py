"""`tranche bulk --engine spark --master sc://HOST:PORT`: the compiled query through a remote Spark Connect session.

A Spark Connect server -- the one PySpark ships (`SparkConnectServer`, started with `spark-submit`, local[2]) --
listens on 127.0.0.1; `tranche bulk` runs in its own process as a client only (no Spark driver of its own), and
its decisions, summary and groups must equal the in-memory evaluator's and DuckDB's on the same items.  Skipped
where Java, the Spark Connect jar or the client's dependencies (grpc, pandas, pyarrow: the `spark-connect` extra)
are missing, unless TRANCHE_REQUIRE_SPARK is set: then it fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import duckdb
import pytest

import tranche
from tranche.compiler.run import bulk
from tranche.engine import Evaluator

ROOT = Path(__file__).parent.parent.parent
PERU = ROOT / "scenarios" / "peru-1962"
FY63 = "congress.appropriation.FY1963"
START_SECONDS = 300  # a busy machine starts the JVM slowly


def _unavailable(why: str) -> None:
    if os.environ.get("TRANCHE_REQUIRE_SPARK"):
        pytest.fail(f"Spark Connect is required (TRANCHE_REQUIRE_SPARK is set) but unavailable: {why}")
    pytest.skip(f"Spark Connect unavailable: {why}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """sc://127.0.0.1:PORT of a Spark Connect server started for this module (and stopped after it)."""
    try:
        import pyspark
        for module in ("grpc", "pandas", "pyarrow", "google.protobuf"):
            __import__(module)
    except ImportError as exc:
        _unavailable(f"{exc} (pip install 'tranche[spark-connect]')")
    home = Path(pyspark.__file__).parent
    if shutil.which("java") is None:
        _unavailable("no `java` on PATH")
    if not list((home / "jars").glob("spark-connect_*.jar")):
        _unavailable(f"no spark-connect jar in {home / 'jars'}")
    port = _free_port()
    log = tmp_path_factory.mktemp("connect") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
             "--master", "local[2]", "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
             "--conf", f"spark.connect.grpc.binding.port={port}", "--conf", "spark.ui.enabled=false",
             "--conf", "spark.sql.shuffle.partitions=2", "--conf", "spark.sql.session.timeZone=UTC",
             "--name", "tranche test", "spark-internal"],
            env={**os.environ, "SPARK_HOME": str(home)}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: the JVM and its children stop together
    try:
        deadline = time.monotonic() + START_SECONDS
        while "Spark Connect server started" not in log.read_text(errors="replace"):
            if server.poll() is not None or time.monotonic() > deadline:
                _unavailable("the server did not start: " + " | ".join(log.read_text(errors="replace")
                                                                        .splitlines()[-5:]))
            time.sleep(1)
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(30)


def test_bulk_through_a_remote_spark_connect_session(connect_url: str, tmp_path: Path) -> None:
    out = tmp_path / "decisions.parquet"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "tranche", "bulk", str(PERU), "--items", str(PERU / "pipeline.csv"),
         "--as-of", "1962-10-03", "-o", "limited,full", "-a", FY63, "--engine", "spark", "--master", connect_url,
         "--out", str(out), "--by", "channel", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert out.is_dir() and data["rows"] == 2 * 51
    # the decisions written by the cluster are the evaluator's
    peru = tranche.load_scenario(PERU)
    day = dt.date(1962, 10, 3)
    expected = {}
    for option in ("limited", "full"):
        ev = Evaluator(peru, day, [FY63], option)
        for item in peru.items:
            d = ev.decide(item)
            expected[(item.id, option)] = (d.outcome.value, ",".join(d.rules), ",".join(d.missing_facts))
    rows = duckdb.connect().execute(f"SELECT id, option, outcome, rules, missing_facts "
                                    f"FROM read_parquet('{out}/*.parquet')").fetchall()
    assert {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows} == expected
    # and the summary and the groups are DuckDB's on the same items
    local = bulk(peru, PERU / "pipeline.csv", tmp_path / "local.parquet", [day], ["limited", "full"], [FY63],
                 by="channel")
    def key(r: dict[str, object]) -> tuple[str, ...]:
        return (str(r["option"]), str(r["program"]), str(r["outcome"]))

    assert sorted(data["summary"], key=key) == sorted((r.to_dict() for r in local.summary), key=key)
    assert data["groups"] == [g.to_dict("channel") for g in local.groups]
