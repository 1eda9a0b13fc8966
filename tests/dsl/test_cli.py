"""The `promo` command as an operator meets it: exit codes, output formats, and one-line
errors (never a traceback) for input it cannot read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsl.cli import app

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "spec"
GOOD = """ruleset "good"
timezone "Asia/Shanghai"
currency CNY
campaign c {
    window 2026-11-11 .. 2026-11-11
    discount { value 5 off }
}
"""
BAD = GOOD.replace("value 5 off", "value 5 off").replace(
    "discount", "when user.levle >= 1\n    deny when channel == 1\n    discount"
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_accepts_the_shared_and_project_examples_together() -> None:
    code, _, err = run("check", str(SHARED / "examples"), str(ROOT / "examples"))
    assert code == 0, err
    assert "0 errors" in err


def test_check_reports_every_error_in_file_order_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.promo", BAD)
    code, out, err = run("check", str(path))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"{path}:6:10: error: unknown field 'user.levle'")
    assert "did you mean 'user.level'" in lines[0]
    assert lines[1].startswith(f"{path}:7:15: error: type mismatch")
    assert "2 errors" in err


def test_check_json_is_for_editors(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.promo", BAD)
    code, out, _ = run("check", "--format", "json", str(path))
    assert code == 1
    report = json.loads(out)
    assert report["errors"] == 2
    first = report["diagnostics"][0]
    assert (first["line"], first["column"], first["severity"]) == (6, 10, "error")
    assert first["file"] == str(path)


def test_check_finds_a_campaign_declared_in_two_files(tmp_path: Path) -> None:
    write(tmp_path, "a.promo", GOOD)
    write(tmp_path, "b.promo", GOOD.replace('"good"', '"other"'))
    code, out, _ = run("check", str(tmp_path))
    assert code == 1
    assert "duplicate campaign 'c' (already loaded from" in out
    assert "a.promo" in out


@pytest.mark.parametrize(
    ("make", "phrase"),
    [
        (lambda p: p / "missing.promo", "no such file or folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no .promo files in this folder"),
        (lambda p: write_bytes(p / "latin1.promo", "caf\xe9".encode("latin-1")), "not UTF-8"),
    ],
)
def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path, make: object, phrase: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    for command in ("check", "fmt", "explain"):
        code, out, err = run(command, str(path))
        assert code == 2, (command, out, err)
        # explain takes one file, so a folder is wrong for another reason
        assert phrase in err or (command == "explain" and "is a folder" in err)
        assert "Traceback" not in err + out
        assert len(err.strip().splitlines()) == 1


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_bad_usage_exits_2() -> None:
    assert run("check")[0] == 2
    assert run("check", "--format", "yaml", str(ROOT / "examples"))[0] == 2
    assert run("no-such-command")[0] == 2


def test_explain_exits_1_on_rules_with_errors(tmp_path: Path) -> None:
    code, _, err = run("explain", str(write(tmp_path, "bad.promo", BAD)))
    assert code == 1
    assert "unknown field 'user.levle'" in err


def test_cases_runs_the_shared_cases_and_says_so_last() -> None:
    code, out, _ = run("cases", str(SHARED / "cases"))
    last = out.strip().splitlines()[-1]
    assert code == 0, out[-2000:]
    assert last.endswith("passed, 0 failed")


def test_cases_reports_a_failing_case_with_its_file_and_name(tmp_path: Path) -> None:
    case = {
        "name": "a wrong expectation",
        "rules": GOOD,
        "steps": [
            {"at": "2026-11-11T10:00:00+08:00"},
            {"evaluate": {"cart": {"items": [{"sku": "A", "price": "50.00", "qty": 1}]}},
             "expect": {"total_discount": "6.00"}},
        ],
    }  # fmt: skip
    (tmp_path / "one.yaml").write_text(json.dumps(case), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("name: [unclosed", encoding="utf-8")
    code, out, _ = run("cases", str(tmp_path))
    assert code == 1
    failure = "[a wrong expectation]: step 2 (evaluate): total_discount: expected 6.00, got 5.00"
    assert failure in out
    assert "broken.yaml" in out and "not valid YAML" in out
    assert out.strip().splitlines()[-1] == "0 passed, 2 failed"


def test_cases_cannot_run_without_its_folder_or_store(tmp_path: Path) -> None:
    code, _, err = run("cases", str(tmp_path / "nope"))
    assert code == 2 and "no such directory" in err
    (tmp_path / "c.yaml").write_text(f"name: x\nrules: {json.dumps(GOOD)}\nsteps: []\n")
    code, _, err = run("cases", str(tmp_path), "--store", "redis://127.0.0.1:1/0")
    assert code == 2 and "cannot reach the store" in err
    code, _, err = run("cases", str(tmp_path), "--store", "mysql://x")
    assert code == 2


def test_the_installed_command_prints_help() -> None:
    promo = Path(sys.executable).with_name("promo")
    result = subprocess.run([str(promo), "--help"], capture_output=True, text=True, check=True)
    for command in ("check", "fmt", "explain", "cases", "serve"):
        assert command in result.stdout
