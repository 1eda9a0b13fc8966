"""`index.html` of a load test's report folder: the page to open in a browser.

It shows the summary the terminal printed (endpoints, claims against stock and budget,
violations) and links every other file of the folder: locust's own report with its
charts, the CSV files, the clients' records and the service's and Redis's logs."""

from __future__ import annotations

from html import escape
from pathlib import Path

_WHAT = {
    "report.html": "locust's report: charts of requests/s, response times and users",
    "summary.txt": "the summary above, as text",
    "summary.json": "the summary as JSON (benchmarks/bench_sale_day.py reads it)",
    "locust_stats.csv": "locust: figures per endpoint",
    "locust_stats_history.csv": "locust: figures over time",
    "locust_failures.csv": "locust: failed requests by kind",
    "locust_exceptions.csv": "locust: exceptions in the users' code",
    "serve.log": "promo serve's log",
    "redis.log": "redis-server's log",
    "locust.log": "locust's log",
    "records": "what each client sent and saw, one JSON line per claim",
    "profile": "py-spy profiles of the service's workers (--profile)",
}


def write_index(report_dir: Path, summary: str, ok: bool) -> Path:
    """Write `report_dir/index.html` and return its path."""
    links = []
    for path in sorted(report_dir.iterdir()):
        if path.name == "index.html":
            continue
        href = escape(path.name) + ("/" if path.is_dir() else "")
        what = escape(_WHAT.get(path.name, ""))
        links.append(f'<li><a href="{href}">{href}</a> {what}</li>')
    verdict = "no violation" if ok else "VIOLATIONS: see below"
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>promo-engine load test: {verdict}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; max-width: 75rem; }}
pre {{ background: #f6f8fa; padding: 1rem; overflow-x: auto; }}
.ok {{ color: #1a7f37; }} .bad {{ color: #cf222e; }}
</style></head>
<body>
<h1>promo-engine load test: <span class="{"ok" if ok else "bad"}">{verdict}</span></h1>
<pre id="summary">{escape(summary)}</pre>
<h2>Files</h2>
<ul id="files">
{chr(10).join(links)}
</ul>
</body></html>
"""
    index = report_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
