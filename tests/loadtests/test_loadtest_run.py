"""The 10-second version of `make loadtest`, so the scenarios never rot: a real
redis-server, `promo serve --workers 2`, every user class of the sale day, the
invariant check, a summary with no violation, and a report folder that Chromium opens."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loadtests.run", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def test_ten_seconds_of_sale_day_end_with_no_violation(tmp_path: Path) -> None:
    report = tmp_path / "report"
    done = run("--duration", "10", "--users", "20", "--report-dir", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "violations: 0" in done.stdout
    assert "claims issued vs stock" in done.stdout
    summary = json.loads((report / "summary.json").read_text())
    names = {e["name"] for e in summary["endpoints"]}
    every_class = {"evaluate", "claim lt_flash", "claim lt_wheel", "claim lt_checkout"}
    assert every_class <= names, names
    assert summary["claims_logged"]["lt_flash"] > 0  # the drop opened during the run
    assert summary["acknowledged"] > 0 and summary["server_errors"] == {}
    # the plain client beside locust answered too, and its figures are in the summary
    assert summary["probe"]["requests"] > 0 and summary["probe"]["p50_ms"] > 0
    assert "A plain client meanwhile" in (report / "summary.txt").read_text()
    for produced in ("report.html", "locust_stats.csv", "serve.log", "summary.txt"):
        assert (report / produced).exists(), produced
    index = rendered(report / "index.html")
    assert "promo-engine load test: no violation" in index
    assert "violations: 0" in index and "report.html locust's report" in index
    locust = rendered(report / "report.html")  # locust's page draws its tables in script
    assert "Request Statistics" in locust and "claim lt_flash" in locust


def rendered(page: Path) -> str:
    """The text of `page` as headless Chromium shows it, scripts run."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed: sudo apt-get install -y chromium (.ci/run does)"
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    dom = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", dom)
    return " ".join(re.sub(r"<[^>]+>", " ", dom).split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "--users must be 1 to 100000"),
        (["--scenario", "black_friday"], "invalid choice"),
        (["--store", "redis://127.0.0.1:1/0"], "--store goes with --host"),
        (["--host", "localhost:8000"], "--host must be a URL"),
        (["--duration", "soon"], "invalid float value"),
    ],
)
def test_bad_options_are_one_line_errors(args: list[str], message: str) -> None:
    done = run(*args, timeout=30)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
