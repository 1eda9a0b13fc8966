"""Fingerprints: equal for the same meaning whatever the layout, different for any change
of meaning (model.CompiledRuleset.fingerprint, Campaign.fingerprint)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.compiler import compile_text

EXAMPLES = sorted(
    (Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples").glob("*.promo")
)
DOUBLE11 = next(p for p in EXAMPLES if p.name == "double11.promo").read_text(encoding="utf-8")


def fingerprints(text: str) -> tuple[str, list[str]]:
    compiled, _ = compile_text(text, "f.promo")
    return compiled.fingerprint, [c.fingerprint for c in compiled.campaigns]


def relayout(text: str) -> str:
    """The same rules with other spacing, line breaks and comments (strings untouched)."""
    out = []
    for line in text.splitlines():
        parts = re.split(r'("(?:[^"\\\n]|\\.)*")', line)  # odd parts are string literals
        code = parts[-1].split("#")[0]  # drop the comment after the last string
        parts[-1] = code
        for i in range(0, len(parts), 2):
            part = parts[i].replace(" and ", "  and\n        ").replace("{", "{   # opened\n")
            parts[i] = part.replace(" ", "  ")
        out.append("   " + "".join(parts) + "    ")
    return "# reformatted\n\n" + "\n\n".join(out) + "\n# the end\n"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_layout_and_comments_do_not_change_fingerprints(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    moved = relayout(text)
    assert moved != text
    assert fingerprints(moved) == fingerprints(text)


def test_generated_source_ignores_layout() -> None:
    a, _ = compile_text(DOUBLE11, "a.promo")
    b, _ = compile_text(relayout(DOUBLE11), "b.promo")
    assert a.generated_source == b.generated_source
    assert a == b and a.campaigns == b.campaigns


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("user.level >= 1", "user.level >= 2"),  # a segment the campaigns use
        ("user.level >= 1", "user.level > 1"),
        ('"fraud" in user.tags', '"fraud" in user.tags or "bot" in user.tags'),
        ("spend 400 save 50", "spend 400 save 51"),
        ("every 300 save 40", "every 300 save 40.01"),
        ("cap 400", "cap 401"),
        ("2026-11-11 23:59:59\n    when app_or_web", "2026-11-11 23:59:58\n    when app_or_web"),
        ("daily 10:00 .. 10:30", "daily 10:00 .. 10:31"),
        ("stock 1000 per day", "stock 1000 per week"),
        ("limit per ip 10 per 1m", "limit per ip 10 per 2m"),
        ("valid 7d after claim", "valid 8d after claim"),
        ("valid until 2026-11-11", "valid until 2026-11-12"),
        ('"Huawei", "Xiaomi"', '"Huawei", "Xiaomi2"'),
        ("group platform\n    priority 10", "group platform\n    priority 11"),
        ("group delivery", "group other"),
        ('"Members ship free from 99"', '"Members ship free from 98"'),
        ("item.brand: string", 'item.brand: string = "none"'),
        ("deny when risky\n    discount", "discount"),
    ],
)
def test_meaning_changes_change_fingerprints(old: str, new: str) -> None:
    assert old in DOUBLE11
    changed = DOUBLE11.replace(old, new, 1)
    ruleset, campaigns = fingerprints(DOUBLE11)
    new_ruleset, new_campaigns = fingerprints(changed)
    assert new_ruleset != ruleset
    assert new_campaigns != campaigns


def test_header_changes_every_fingerprint() -> None:
    base = fingerprints(DOUBLE11)
    for old, new in [('"Asia/Shanghai"', '"Asia/Tokyo"'), ("currency CNY", "currency HKD")]:
        ruleset, campaigns = fingerprints(DOUBLE11.replace(old, new))
        assert ruleset != base[0]
        assert all(a != b for a, b in zip(campaigns, base[1], strict=True))


def test_only_the_changed_campaign_changes() -> None:
    _, before = fingerprints(DOUBLE11)
    _, after = fingerprints(DOUBLE11.replace("cap 400", "cap 401"))
    assert [a == b for a, b in zip(before, after, strict=True)] == [True, False, True, True, True]


def test_order_is_positional_for_campaigns_not_for_the_ruleset() -> None:
    text = 'ruleset "t"\ntimezone "UTC"\ncurrency CNY\n'
    a = "campaign a { window 2026-01-01 .. 2026-01-02  discount { value 1 off } }\n"
    b = "campaign b { window 2026-01-01 .. 2026-01-02  discount { value 2 off } }\n"
    first, (fa, fb) = fingerprints(text + a + b)
    second, (sb, sa) = fingerprints(text + b + a)
    assert (fa, fb) == (sa, sb)
    assert first != second  # file order decides ties (10.1)


def test_equal_meanings_written_differently() -> None:
    text = 'ruleset "t"\ntimezone "UTC"\ncurrency CNY\ncampaign a {{ window 2026-01-01 .. 2026-01-02  when {} discount {{ value 1 off }} }}\n'  # noqa: E501
    assert fingerprints(text.format("(user.level >= 1.50)")) == fingerprints(
        text.format("user.level >= 1.5")
    )
    assert fingerprints(text.format("now >= 2026-01-01 00:00")) == fingerprints(
        text.format("now >= 2026-01-01")
    )
    assert fingerprints(text.format("user.level >= 1")) != fingerprints(
        text.format("user.level >= 2")
    )


def test_unused_segment_changes_nothing() -> None:
    text = DOUBLE11.replace("segment members", "segment unused = user.level >= 9\nsegment members")
    assert fingerprints(text) == fingerprints(DOUBLE11)
