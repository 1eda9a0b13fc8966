"""`promo simulate`: a sample of carts evaluated against rule files, added up per campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from dsl.cli import app

RULES = """
ruleset "sim"
timezone "Asia/Shanghai"
currency CNY

campaign spend_save {
    window 2026-11-01 .. 2026-11-30
    discount {
        tiers {
            spend 100 save 10
            spend 200 save 25
        }
    }
}

campaign vip {
    window 2026-11-01 .. 2026-11-30
    when user.level >= 3
    discount { value 5 off }
}

campaign grab {
    window 2026-11-01 .. 2026-11-30
    deny when user.id in list "blocked"
    coupon c5 { value 5 off  valid 1d after claim  stock 2 }
    limit per user 1
}

campaign later {
    window 2026-12-01 .. 2026-12-31
    discount { value 50 off }
}
"""
AT = "2026-11-11T20:00:00+08:00"


def cart(total: str, level: int = 0) -> dict[str, Any]:
    return {
        "user": {"id": f"u{total}-{level}", "level": level},
        "cart": {"items": [{"sku": "A", "price": total, "qty": 1}]},
    }


def simulate(tmp_path: Path, lines: list[bytes], *args: str) -> tuple[int, str, str]:
    rules = tmp_path / "sim.promo"
    rules.write_text(RULES, encoding="utf-8")
    carts = tmp_path / "carts.jsonl"
    carts.write_bytes(b"\n".join(lines) + b"\n")
    result = CliRunner().invoke(
        app, ["simulate", str(rules), "--carts", str(carts), "--at", AT, *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_campaigns_are_added_up_over_the_carts(tmp_path: Path) -> None:
    lines = [
        orjson.dumps(cart("50.00")),  # nothing but the claimable coupon
        orjson.dumps(cart("150.00", level=3)),  # tier 1 (10) and vip (5)
        orjson.dumps({"context": cart("250.00")}),  # a whole request: tier 2 (25)
        b"",  # blank lines are no carts
    ]
    code, out, err = simulate(tmp_path, lines, "--format", "json")
    assert code == 0, err
    report = orjson.loads(out)
    assert (report["carts"], report["discounted"], report["currency"]) == (3, 2, "CNY")
    assert (report["listed"], report["discount"], report["paid"]) == ("450.00", "40.00", "410.00")
    tiers, vip, grab = (report["campaigns"][c] for c in ("spend_save", "vip", "grab"))
    assert (tiers["applied"], tiers["discount"], tiers["nudged"]) == (2, "35.00", 2)
    assert tiers["reasons"] == {"below_threshold": 1}
    assert (vip["applied"], vip["discount"], vip["reasons"]) == (1, "5.00", {"not_eligible": 2})
    assert (grab["applied"], grab["claimable"], grab["available"]) == (0, {"c5": 3}, {"c5": 3})
    assert report["campaigns"]["later"]["reasons"] == {"not_started": 3}
    assert report["at"] == AT and report["skipped"] == []


def test_with_claims_the_offers_run_down_and_the_counters_say_what_was_issued(
    tmp_path: Path,
) -> None:
    lines = [orjson.dumps(c) for c in (cart("50.00"), cart("150.00", level=3), cart("250.00"),
                                      cart("50.00"))]  # fmt: skip
    code, out, err = simulate(tmp_path, lines, "--claim", "--format", "json")
    assert code == 0, err
    report = orjson.loads(out)
    grab = report["campaigns"]["grab"]
    # the first two shoppers take the stock of 2; the third finds none left, and the
    # fourth (the first shopper again) has used the one claim a user may make
    assert (grab["claimable"], grab["available"]) == ({"c5": 4}, {"c5": 2})
    assert grab["reasons"] == {"out_of_stock": 1, "user_limit": 1}
    counters = report["counters"]["grab"]
    assert (counters["issued"], counters["issued_by_reward"]) == (2, {"c5": 2})
    assert counters["stock"] == [{"reward": "c5", "period": "total", "limit": 2, "issued": 2,
                                  "left": 0}]  # fmt: skip
    assert counters["face_value_issued"] == "10.00"
    assert report["claimed"] is True and report["claim_errors"] == {}
    assert list(report["counters"]) == ["grab"]  # only campaigns with claimable rewards


def test_without_claims_nothing_runs_down(tmp_path: Path) -> None:
    lines = [orjson.dumps(cart("50.00")) for _ in range(3)]  # one shopper, three times
    code, out, err = simulate(tmp_path, lines, "--format", "json")
    assert code == 0, err
    report = orjson.loads(out)
    assert report["campaigns"]["grab"]["available"] == {"c5": 3}
    assert (report["claimed"], report["counters"]) == (False, {})


def test_bad_lines_are_skipped_with_their_numbers_and_the_rest_still_counts(
    tmp_path: Path,
) -> None:
    lines = [
        orjson.dumps(cart("150.00")),
        b"{not json",
        b'{"cart": {"items": [{"sku": "A", "price": 1.5, "qty": 1}]}}',  # money as a float
        b"[1, 2]",
        orjson.dumps(cart("250.00")),
    ]
    code, out, err = simulate(tmp_path, lines, "--format", "json")
    assert code == 1
    report = orjson.loads(out)
    assert (report["carts"], report["discount"]) == (2, "35.00")
    assert [s["line"] for s in report["skipped"]] == [2, 3, 4]
    assert "cart.items[0].price" in report["skipped"][1]["reason"]
    assert "carts.jsonl:2: skipped: not JSON" in err
    assert "carts.jsonl:4: skipped: invalid_request" in err


def test_the_text_report_names_every_campaign_in_full(tmp_path: Path) -> None:
    code, out, err = simulate(tmp_path, [orjson.dumps(cart("150.00", level=3))])
    assert code == 0, err
    assert "1 carts evaluated at 2026-11-11T20:00:00+08:00, 1 rule file, CNY" in out
    assert "discounts 15.00 CNY of 150.00 listed (10.0%)" in out
    for words in ("spend_save", "vip", "grab", "c5", "not_started"):
        assert words in out
    assert "claims:" not in out
    code, out, err = simulate(tmp_path, [orjson.dumps(cart("150.00", level=3))], "--claim")
    assert code == 0, err
    assert "claims: every reward offered" in out and "5.00" in out
    assert "…" not in out  # nothing cut to fit 80 columns


def test_rule_errors_and_bad_options_stop_before_any_cart(tmp_path: Path) -> None:
    (tmp_path / "bad.promo").write_text(RULES.replace("user.level", "user.levle"), "utf-8")
    (tmp_path / "carts.jsonl").write_bytes(orjson.dumps(cart("1.00")))
    runner = CliRunner()
    bad = runner.invoke(app, ["simulate", str(tmp_path / "bad.promo"),
                              "--carts", str(tmp_path / "carts.jsonl")])  # fmt: skip
    assert bad.exit_code == 1 and "did you mean 'user.level'" in bad.stderr
    code, _, err = simulate(tmp_path, [b"{}"], "--at", "2026-11-11 20:00")
    assert code == 2 and "--at:" in err and "offset" in err
    (tmp_path / "sim.promo").write_text(RULES, "utf-8")
    missing = runner.invoke(app, ["simulate", str(tmp_path / "sim.promo"),
                                  "--carts", str(tmp_path / "none.jsonl")])  # fmt: skip
    assert missing.exit_code == 2 and "none.jsonl" in missing.stderr
    assert "Traceback" not in bad.stderr + err + missing.stderr


def test_the_readme_example_runs_on_the_project_examples() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    result = CliRunner().invoke(app, [
        "simulate", str(examples), "--carts", str(examples / "carts.jsonl"),
        "--at", "2026-11-11T20:30:00+08:00", "--format", "json",
    ])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = orjson.loads(result.stdout)
    assert report["carts"] == 50 and report["skipped"] == []
    assert report["campaigns"]["sd_tiers"]["applied"] > 0
