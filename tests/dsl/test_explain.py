"""`promo explain` (dsl/explain.py and the pre-launch analysis of dsl/analysis.py): the
facts of each campaign in plain words and local time, and the problems planted in small
rule files found, with nothing reported that is not certain."""

from __future__ import annotations

import doctest
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dsl import eligibility, phrases
from dsl.cli import app
from dsl.compiler import compile_text
from dsl.explain import explain_json, explain_text

ROOT = Path(__file__).resolve().parents[2]
SPEC_EXAMPLES = ROOT.parent / "shared" / "spec" / "examples"
EXAMPLES = sorted(SPEC_EXAMPLES.glob("*.promo")) + sorted((ROOT / "examples").glob("*.promo"))


def explain(text: str) -> tuple[str, dict[str, Any]]:
    compiled, _ = compile_text(text, "t.promo")
    return explain_text(compiled, text), explain_json(compiled, text)


def example(name: str) -> str:
    return explain((SPEC_EXAMPLES / name).read_text(encoding="utf-8"))[0]


def rules(body: str, timezone: str = "Asia/Shanghai") -> str:
    head = f'ruleset "t"\ntimezone "{timezone}"\ncurrency CNY\n'
    return head + textwrap.dedent(body)


def findings(body: str, kind: str) -> list[str]:
    _, data = explain(rules(body))
    return [f["message"] for f in data["analysis"] if f["kind"] == kind]


# --- the facts of each campaign -------------------------------------------------------------


def test_double11_in_plain_words() -> None:
    text = example("double11.promo")
    for fact in [
        'spend_and_save "Double 11: spend more, save more": automatic discount, tier S',
        "11 Nov 2026, all day, Asia/Shanghai time",
        "10 Nov 2026 20:00 to 11 Nov 2026 23:59:59, Asia/Shanghai time",
        "every day 10:00 to 10:30, 1 Nov 2026 to 11 Nov 2026, Asia/Shanghai time",
        "app_or_web (in the app, on the web or in the mini program)",
        "denied    when risky (user.risk_score >= 80",
        "20 off from 200, 50 off from 400, 120 off from 800",
        "40 off every 300, at most 400",
        'coupon c30 "30 off 199": 30 off 199',
        "face value 30.00; valid 7 days after claim; stock 1,000 a day; budget 300,000.00",
        "1 per user; 1 per device a day; 10 per IP a minute",
        "group platform with flash_coupon (one of them per cart); stage platform; priority 10",
        "12% off, at most 200",
        "face value 200.00; valid until 11 Nov 2026 23:59:59",
    ]:
        assert fact in text, fact


def test_member_day_schedules_and_gifts() -> None:
    text = example("member_day.promo")
    assert "Wednesdays, 1 Jan 2026 to 31 Dec 2026, Asia/Shanghai time" in text
    assert "the 18th of each month 10:00 to 23:59:59" in text
    assert "silver (user.level >= 1 and user.level < 3), not black (" in text
    assert 'a gift: 1 × "TOTE-BLACK-26", from 500' in text
    assert "2 points per 1 spent" in text
    assert "15 off from 150, 10% off from 300, at most 80" in text
    assert "budget 540,000.00 a month" in text


def test_lottery_and_pack() -> None:
    draw = example("spring_draw.promo")
    assert "every day 08:00 to 23:59:59, 20 Jan 2027 to 5 Feb 2027" in draw
    assert 'phone "Phone 17": physical prize; weight 1 (0.1% of draws); stock 2 a day' in draw
    assert "c50 is guaranteed after 10 misses in a row" in draw
    assert "3 per user a day; 5 per device a day; 30 per IP an hour; budget 600,000.00" in draw
    pack = example("new_user_pack.promo")
    assert "3 coupons in one claim; face value 80.00; stock 100,000 in total" in pack
    assert 'coupon w50 "50 off 299": 50 off 299; face value 50.00; valid 14 days' in pack


def test_referral_and_night_slots() -> None:
    assert 'invited friend\'s "first_order" event' in example("referral.promo")
    assert "every day 22:00 to 01:00 the next day" in example("flash_drops.promo")


def test_instants_are_in_the_rulesets_local_time() -> None:
    text, data = explain(
        rules(
            """\
            campaign c {
                window 2026-03-08 01:30 .. 2026-03-08 03:30
                discount { value 5 off }
            }
            """,
            timezone="America/New_York",
        )
    )
    assert "8 Mar 2026 01:30 to 03:30, America/New_York time" in text
    assert data["campaigns"][0]["window"]["end"] == "2026-03-08T03:30:00-04:00"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_example_explains_every_campaign(path: Path) -> None:
    text, data = explain(path.read_text(encoding="utf-8"))
    assert [c["id"] for c in data["campaigns"]]
    for c in data["campaigns"]:
        assert f"\n{c['id']}" in text
    assert json.loads(json.dumps(data)) == data
    assert data["analysis"][-1]["kind"] == "worst_case"


def test_cli_json_round_trips() -> None:
    path = SPEC_EXAMPLES / "double11.promo"
    result = CliRunner().invoke(app, ["explain", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ruleset"] == "double11-2026"
    flash = next(c for c in data["campaigns"] if c["id"] == "flash_coupon")
    assert flash["offers"][0]["face_value"] == "30.00"
    assert flash["limits"] == ["1 per user", "1 per device a day", "10 per IP a minute"]


# --- the analysis -----------------------------------------------------------------------------


def test_tiers_that_do_not_increase() -> None:
    found = findings(
        """\
        campaign mj {
            window 2026-11-11 .. 2026-11-11
            discount { tiers { spend 200 save 50  spend 400 save 40 } }
        }
        campaign pct {
            window 2026-11-11 .. 2026-11-11
            discount { tiers { spend 200 save 10%  spend 300 save 25 } }
        }
        """,
        "tiers",
    )
    assert found == [
        "mj: `spend 400 save 40` saves no more than `spend 200 save 50`; spending more should"
        " save more",
        "pct: `spend 300 save 25` saves no more than `spend 200 save 10%` does just below 300"
        " (30.00); spending more should save more",
    ]


def test_tiers_a_cap_makes_unreachable() -> None:
    found = findings(
        """\
        campaign mj {
            window 2026-11-11 .. 2026-11-11
            discount {
                tiers {
                    spend 200 save 30
                    spend 400 save 60
                    spend 800 save 90
                }
                cap 30
            }
        }
        """,
        "tiers",
    )
    assert found == [
        "mj: `spend 400 save 60` is never reached in effect: the cap 30 already holds"
        " `spend 200 save 30` at 30.00"
    ]


def test_a_gift_grouped_with_a_money_discount_always_loses() -> None:
    found = findings(
        """\
        campaign tote {
            window 2026-11-11 .. 2026-11-11
            discount { gift "TOTE" }
            group g
        }
        campaign ten {
            window 2026-11-11 .. 2026-11-11
            discount { value 10 off }
            group g
        }
        """,
        "group",
    )
    assert len(found) == 1 and found[0].startswith("tote gives a gift")
    assert "whenever ten applies" in found[0]


def test_a_fixed_discount_always_below_another_in_its_group() -> None:
    body = """\
        segment members = user.level >= 1
        campaign big {
            window 2026-11-01 .. 2026-11-30
            when members
            discount { value 20 off  min spend 50 }
            group g
        }
        campaign small {
            window 2026-11-11 10:00 .. 2026-11-11 12:00
            when members
            when channel == "app"
            discount { value 10 off  min spend 100 }
            group g
        }
        """
    assert findings(body, "group") == [
        "small can never win group g: whenever it applies, big applies too and gives at least"
        " 20.00, while small gives at most 10.00"
    ]
    # Not certain any more when the bigger one has a condition the smaller one lacks.
    assert findings(body.replace("when members\n", "when user.is_new\n", 1), "group") == []


def test_a_claimable_campaign_without_any_quota() -> None:
    body = """\
        campaign grab {
            window 2026-11-11 .. 2026-11-11
            coupon c5 { value 5 off }
        }
        """
    assert findings(body, "quota") == [
        "grab can be claimed without end: no limit, no stock and no budget, so every eligible"
        " user, device or script may claim it again and again"
    ]
    assert findings(body.replace("value 5 off", "value 5 off  stock 10"), "quota") == []


def test_the_worst_case_when_bounded_and_when_not() -> None:
    body = """\
        campaign mj {
            window 2026-11-11 .. 2026-11-11
            discount { tiers { spend 200 save 20  spend 400 save 50 } }
            group platform
        }
        campaign pct {
            window 2026-11-11 .. 2026-11-11
            discount { value 8% off  cap 100 }
            group platform
        }
        campaign ship {
            window 2026-11-11 .. 2026-11-11
            discount { free shipping }
        }
        campaign shop {
            window 2026-11-11 .. 2026-11-11
            discount { every 100 save 5  cap 30 }
        }
        """
    [bounded] = findings(body, "worst_case")
    assert bounded.startswith("worst case: automatic discounts take at most 130.00 off one cart,")
    assert "plus the shipping fee (ship)" in bounded
    assert "group platform 100.00 (pct); shop 30.00" in bounded
    [unbounded] = findings(body.replace("value 8% off  cap 100", "value 8% off"), "worst_case")
    assert unbounded.startswith(
        "worst case: NOT BOUNDED: pct (a percentage with no cap) grows with the cart"
    )


def test_the_shared_examples_have_no_planted_problems() -> None:
    for path in sorted(SPEC_EXAMPLES.glob("*.promo")):
        _, data = explain(path.read_text(encoding="utf-8"))
        assert [f["kind"] for f in data["analysis"]] == ["worst_case"], path.name


@pytest.mark.parametrize("module", [eligibility, phrases], ids=lambda m: m.__name__)
def test_docstring_examples(module: Any) -> None:
    assert doctest.testmod(module).failed == 0
