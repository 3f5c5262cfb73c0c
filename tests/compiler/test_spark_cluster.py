"""The cluster paths of docs/bulk.md, run on this machine: `tranche bulk` under `spark-submit`, and through a
remote Spark Connect session (`--master sc://HOST:PORT`).

Under spark-submit (local[2], as a cluster's master would be given) the documented one-line driver script runs
`tranche bulk --engine spark` on spark-submit's own session.  A Spark Connect server -- the one PySpark ships (`SparkConnectServer`, started with `spark-submit`, local[2]) --
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
DAY = dt.date(1962, 10, 3)
START_SECONDS = 300  # a busy machine starts the JVM slowly


def _spark_home() -> Path:
    try:
        import pyspark
    except ImportError as exc:
        _unavailable(str(exc))
    if shutil.which("java") is None:
        _unavailable("no `java` on PATH")
    return Path(pyspark.__file__).parent


def _expected(options: tuple[str, ...]) -> dict[tuple[str, str], tuple[str, str, str]]:
    peru = tranche.load_scenario(PERU)
    out = {}
    for option in options:
        ev = Evaluator(peru, DAY, [FY63], option)
        for item in peru.items:
            d = ev.decide(item)
            out[(item.id, option)] = (d.outcome.value, ",".join(d.rules), ",".join(d.missing_facts))
    return out


def _written(folder: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
    rows = duckdb.connect().execute(f"SELECT id, option, outcome, rules, missing_facts "
                                    f"FROM read_parquet('{folder}/*.parquet')").fetchall()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}


def test_bulk_under_spark_submit(tmp_path: Path) -> None:
    """docs/bulk.md: `echo 'from tranche.cli.main import main; main()' > tranche_submit.py`, then spark-submit it."""
    home = _spark_home()
    script = tmp_path / "tranche_submit.py"
    script.write_text("from tranche.cli.main import main; main()\n")
    out = tmp_path / "decisions.parquet"
    proc = subprocess.run(
        [str(home / "bin" / "spark-submit"), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
         str(script), "bulk", str(PERU), "--engine", "spark", "--items", str(PERU / "pipeline.csv"),
         "--out", str(out), "--as-of", "1962-10-03", "--options", "limited", "-a", FY63, "--format", "json"],
        capture_output=True, text=True, env={**_env(), "SPARK_HOME": str(home)}, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["rows"] == 51
    assert _written(out) == _expected(("limited",))


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
    home = _spark_home()
    try:
        for module in ("grpc", "pandas", "pyarrow", "google.protobuf"):
            __import__(module)
    except ImportError as exc:
        _unavailable(f"{exc} (pip install 'tranche[spark-connect]')")
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
    proc = subprocess.run(
        [sys.executable, "-m", "tranche", "bulk", str(PERU), "--items", str(PERU / "pipeline.csv"),
         "--as-of", "1962-10-03", "-o", "limited,full", "-a", FY63, "--engine", "spark", "--master", connect_url,
         "--out", str(out), "--by", "channel", "--format", "json"],
        capture_output=True, text=True, env=_env(), timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert out.is_dir() and data["rows"] == 2 * 51
    assert _written(out) == _expected(("limited", "full"))  # the decisions written by the cluster: the evaluator's
    # and the summary and the groups are DuckDB's on the same items
    local = bulk(tranche.load_scenario(PERU), PERU / "pipeline.csv", tmp_path / "local.parquet", [DAY],
                 ["limited", "full"], [FY63], by="channel")

    def key(r: dict[str, object]) -> tuple[str, ...]:
        return (str(r["option"]), str(r["program"]), str(r["outcome"]))

    assert sorted(data["summary"], key=key) == sorted((r.to_dict() for r in local.summary), key=key)
    assert data["groups"] == [g.to_dict("channel") for g in local.groups]


def test_the_printed_spark_query_runs_as_any_spark_sql_job(connect_url: str, tmp_path: Path) -> None:
    """docs/bulk.md: `tranche sql --dialect spark` reads a table `items`; the cluster runs it with no tranche there."""
    printed = subprocess.run([sys.executable, "-m", "tranche", "sql", str(PERU), "--as-of", "1962-10-03",
                              "-o", "limited,full", "-a", FY63, "--dialect", "spark"],
                             capture_output=True, text=True, env=_env(), timeout=300)
    assert printed.returncode == 0, printed.stderr
    (tmp_path / "decide.sql").write_text(printed.stdout)
    out = tmp_path / "decisions"
    job = (f"from pyspark.sql import SparkSession\n"
           f"spark = SparkSession.builder.remote({connect_url!r}).getOrCreate()\n"
           f"spark.read.option('header', 'true').option('escape', '\"').csv({str(PERU / 'pipeline.csv')!r})"
           f".createOrReplaceTempView('items')\n"
           f"spark.sql(open({str(tmp_path / 'decide.sql')!r}).read()).write.parquet({str(out)!r})\n")
    proc = subprocess.run([sys.executable, "-c", job], capture_output=True, text=True, env=_env(), timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _written(out) == _expected(("limited", "full"))
