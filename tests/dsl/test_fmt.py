"""`promo fmt` (dsl/fmt.py): one canonical layout, every comment kept, idempotent, and
never a change of meaning, on every example, every case's rules and random layouts."""

from __future__ import annotations

import doctest
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dsl import fmt
from dsl.cli import app
from dsl.compiler import compile_text
from dsl.errors import RuleError
from dsl.fmt import FormatError, comment_texts, format_source, shape
from dsl.parser import parse_ruleset

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec"
EXAMPLES = sorted((SPEC / "examples").glob("*.promo")) + sorted((ROOT / "examples").glob("*.promo"))


def _case_rules() -> list[tuple[str, str]]:
    """(case name, rules) of every case with inline rules that parse."""
    found = []
    for path in sorted((SPEC / "cases").glob("*.yaml")):
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data if isinstance(data, list) else [data]:
            rules = case.get("rules") if isinstance(case, dict) else None
            if isinstance(rules, str):
                found.append((f"{path.stem}: {case['name']}", rules))
    return found


CASE_RULES = _case_rules()


def head(body: str) -> str:
    return 'ruleset "r"\ntimezone "Asia/Shanghai"\ncurrency CNY\n' + textwrap.dedent(body)


def assert_safe(text: str, *, compiles: bool | None = None) -> str:
    """Format `text` and check everything the formatter promises; returns the result."""
    once = format_source(text, "f.promo")
    assert format_source(once, "f.promo") == once  # idempotent
    before, after = parse_ruleset(text), parse_ruleset(once)
    assert shape(after) == shape(before)  # the same tree, up to positions
    assert comment_texts(after) == comment_texts(before)  # every comment kept
    try:
        compiled, _ = compile_text(text, "f.promo")
    except RuleError:
        assert not compiles
        return once
    assert compile_text(once, "f.promo")[0].fingerprint == compiled.fingerprint
    return once


# --- every example and case -----------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_examples_format_safely(path: Path) -> None:
    assert_safe(path.read_text(encoding="utf-8"), compiles=True)


@pytest.mark.parametrize("rules", [r for _, r in CASE_RULES], ids=[n for n, _ in CASE_RULES])
def test_case_rules_format_safely(rules: str) -> None:
    try:
        parse_ruleset(rules)
    except RuleError as syntax:
        # A syntax-error case: fmt refuses it with the parser's own error, changing nothing.
        with pytest.raises(RuleError) as refused:
            format_source(rules)
        assert str(refused.value) == str(syntax)
        return
    assert_safe(rules)


def test_project_examples_are_formatted() -> None:
    result = CliRunner().invoke(app, ["fmt", "--check", str(ROOT / "examples")])
    assert result.exit_code == 0, result.output


def test_check_lists_the_files_it_would_change(tmp_path: Path) -> None:
    messy = tmp_path / "messy.promo"
    messy.write_text('ruleset "r"  timezone "UTC" currency CNY\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["fmt", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert "would reformat" in result.output and "messy.promo" in result.output
    assert messy.read_text(encoding="utf-8") == 'ruleset "r"  timezone "UTC" currency CNY\n'
    assert CliRunner().invoke(app, ["fmt", str(messy)]).exit_code == 0
    assert messy.read_text(encoding="utf-8") == 'ruleset "r"\ntimezone "UTC"\ncurrency CNY\n'


def test_a_file_that_does_not_parse_is_left_alone_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.promo"
    bad.write_text('ruleset "r" timezone "UTC" currency CNY segment = 1\n', encoding="utf-8")
    for args in (["fmt", str(bad)], ["fmt", "--check", str(bad)]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1
        assert "(not formatted)" in result.output
    assert bad.read_text(encoding="utf-8").endswith("segment = 1\n")


# --- the canonical layout -------------------------------------------------------------------


def test_layout_of_a_messy_file() -> None:
    messy = """ruleset "r" timezone "Asia/Shanghai"  currency CNY
context{user.city:string="" item.tags2 : list of string = ["a","b"]}
segment members=user.level>=1 segment risky =user.risk_score>=80
campaign c "C" { tier A goal conversion window 2026-11-11 .. 2026-11-11 23:59:59
weekly sat,sun 10:00..22:00 when members and channel in["app" ,"web"] deny when risky
priority -5 group g stage shop
discount{tiers{spend 200 save 20 spend 400 save 50}on items where item.category!="x"}}
campaign d{window 2026-11-11..2026-11-12 coupon k{value 15% off cap 50 min spend 199
valid 7d after claim stock 10 per day budget 500 limit per user 1} limit per ip 10 per 1m}
"""
    assert assert_safe(messy, compiles=True) == head("""\
        context {
            user.city: string = ""
            item.tags2: list of string = ["a", "b"]
        }
        segment members = user.level >= 1
        segment risky   = user.risk_score >= 80
        campaign c "C" {
            tier A
            goal conversion
            window 2026-11-11 .. 2026-11-11 23:59:59
            weekly sat, sun 10:00 .. 22:00
            when members and channel in ["app", "web"]
            deny when risky
            priority -5
            group g
            stage shop
            discount {
                tiers {
                    spend 200 save 20
                    spend 400 save 50
                }
                on items where item.category != "x"
            }
        }
        campaign d {
            window 2026-11-11 .. 2026-11-12
            coupon k {
                value 15% off
                cap 50
                min spend 199
                valid 7d after claim
                stock 10 per day
                budget 500
                limit per user 1
            }
            limit per ip 10 per 1m
        }
        """)


def test_short_blocks_go_on_one_line() -> None:
    text = head("""\
        campaign c {
            window 2026-11-11 .. 2026-11-11
            discount {
                value 5% off
                cap 30
            }
        }
        campaign l {
            window 2026-11-11 .. 2026-11-11
            lottery {
                prize a coupon {
                    value 10 off
                } weight 1
                prize b "B" weight 2 stock 3 per day
            }
        }
        """)
    assert assert_safe(text) == head("""\
        campaign c {
            window 2026-11-11 .. 2026-11-11
            discount { value 5% off  cap 30 }
        }
        campaign l {
            window 2026-11-11 .. 2026-11-11
            lottery {
                prize a coupon { value 10 off } weight 1
                prize b "B" weight 2 stock 3 per day
            }
        }
        """)


@pytest.mark.parametrize(
    "items",
    [
        'value 5% off cap 30 min spend 10 on items where item.sku == "a"',  # a condition
        "value 5% off cap 30 min spend 10 valid 7d after claim",  # four items
        "value 5 off  # a comment keeps the block open",
    ],
)
def test_blocks_that_stay_open(items: str) -> None:
    text = head(f"campaign c {{\n window 2026-11-11 .. 2026-11-11\n coupon k {{ {items}\n }} }}")
    assert "coupon k {\n" in assert_safe(text)


def test_pack_coupons_align_as_a_table() -> None:
    text = head("""\
        campaign c {
            window 2026-11-11 .. 2026-11-11
            pack p {
                coupon a "5 off 29" { value 5 off min spend 29 valid 7d after claim }
                coupon bb "15 off 99" { value 15 off min spend 99 valid 7d after claim }
                stock 10
            }
        }
        """)
    assert "\n".join(assert_safe(text).splitlines()[6:8]) == (
        '        coupon a  "5 off 29"  { value 5 off   min spend 29  valid 7d after claim }\n'
        '        coupon bb "15 off 99" { value 15 off  min spend 99  valid 7d after claim }'
    )


def test_long_conditions_break_before_or_then_and() -> None:
    text = head(
        'segment s = user.risk_score >= 80 or "fraud" in user.tags and user.level < 1'
        ' and user.is_new or user.id in list "blocked" or (device.id in list "d")\n'
    )
    lines = assert_safe(text).splitlines()[3:]
    assert lines == [
        "segment s = user.risk_score >= 80",
        '            or "fraud" in user.tags and user.level < 1 and user.is_new',
        '            or user.id in list "blocked"',
        '            or (device.id in list "d")',
    ]


def test_an_and_inside_a_broken_or_is_indented_past_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dsl.wrapping.WIDTH", 40)
    monkeypatch.setattr("dsl.layout.WIDTH", 40)
    text = head('segment s = user.level > 1 and user.level < 9 or region == "x"\n')
    assert assert_safe(text).splitlines()[3:] == [
        "segment s = user.level > 1",
        "               and user.level < 9",
        '            or region == "x"',
    ]


# --- comments and blank lines ---------------------------------------------------------------


def test_comments_stay_next_to_their_code() -> None:
    text = """# file comment

ruleset "r" # id
timezone "Asia/Shanghai"
currency CNY
segment s = user.level >= 1   # members
    # or new ones
    or user.is_new
campaign c { # opens
    window 2026-11-11 .. 2026-11-11
    discount {
        # the benefit
        value 5 off
    }
    # before the brace
}
# at the end
"""
    assert (
        assert_safe(text)
        == """# file comment

ruleset "r"  # id
timezone "Asia/Shanghai"
currency CNY
segment s = user.level >= 1  # members
            # or new ones
            or user.is_new
campaign c {  # opens
    window 2026-11-11 .. 2026-11-11
    discount {
        # the benefit
        value 5 off
    }
    # before the brace
}
# at the end
"""
    )


def test_two_comments_for_one_joined_line_keep_their_order() -> None:
    text = head("campaign c { window 2026-11-11  # a\n .. 2026-11-12  # b\n discount {} }")
    once = assert_safe(text)
    assert "    window 2026-11-11 .. 2026-11-12  # a\n    # b\n" in once


def test_trailing_comments_of_adjacent_lines_align() -> None:
    text = head("campaign c { window 2026-11-11 .. 2026-11-11 # w\n priority 1 # p\n discount {} }")
    lines = assert_safe(text).splitlines()[4:6]
    assert lines == [
        "    window 2026-11-11 .. 2026-11-11  # w",
        "    priority 1                       # p",
    ]


def test_blank_lines_kept_once_between_declarations_and_items_only() -> None:
    text = head("""\


        segment a = true


        segment b = false
        campaign c {

            window 2026-11-11 .. 2026-11-11


            discount {

                free shipping

            }

        }
        """)
    assert assert_safe(text) == head("""\

        segment a = true

        segment b = false
        campaign c {
            window 2026-11-11 .. 2026-11-11

            discount { free shipping }
        }
        """)


def test_crlf_and_byte_order_mark() -> None:
    text = '\ufeffruleset "r"\r\ntimezone "UTC"  # tz\r\ncurrency CNY\r\n'
    assert format_source(text) == 'ruleset "r"\ntimezone "UTC"  # tz\ncurrency CNY\n'


def test_docstring_example() -> None:
    assert doctest.testmod(fmt).failed == 0


# --- errors -----------------------------------------------------------------------------------


def test_a_file_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(RuleError) as caught:
        format_source('ruleset "r" timezone "UTC" currency CNY segment = 1', "bad.promo")
    assert caught.value.diagnostics[0].format().startswith("bad.promo:1:")


def test_a_result_that_would_change_the_meaning_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "render", lambda *_: 'ruleset "other"\ntimezone "UTC"\ncurrency CNY\n')
    with pytest.raises(FormatError, match="internal error"):
        format_source('ruleset "r" timezone "UTC" currency CNY')


# --- random layouts ---------------------------------------------------------------------------

# The tokens of LANGUAGE.md 2 and 12, longest first, so that a relayout never splits one.
_TOKEN = re.compile(
    r"""[ \t\r\n]+|(?P<comment>\#[^\n]*)|"(?:[^"\\\n]|\\.)*"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}
    |[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?|[0-9]+(?:\.[0-9]+)?%|[0-9]+[smhd](?![A-Za-z0-9_])
    |[0-9]+\.[0-9]+|[0-9]+|[A-Za-z_][A-Za-z0-9_]*|\.\.|==|!=|<=|>=|.""",
    re.VERBOSE,
)
_SPACES = [" ", " ", " ", "  ", "\t", "\n", "\n    ", "\n\n", " \n  \n "]
_TEXTS = [p.read_text(encoding="utf-8") for p in EXAMPLES]


def relayout(text: str, draw: st.DrawFn) -> str:
    """The same tokens with random spacing and line breaks, and random comments at line
    ends and on lines of their own."""
    out: list[str] = []
    for n, m in enumerate(t for t in _TOKEN.finditer(text) if not t.group().isspace()):
        out.append(m.group())
        if m.group("comment"):
            out.append("\n")
            continue
        space = draw(st.sampled_from(_SPACES))
        comment = draw(st.sampled_from(["", "", "end", "own"]))
        if comment == "end" and "\n" in space:
            space = space.replace("\n", f"  # c{n}\n", 1)
        elif comment == "own":
            space += f"\n# own {n}\n"
        out.append(space)
    return "".join(out) + "\n"


@st.composite
def layouts(draw: st.DrawFn) -> str:
    return relayout(draw(st.sampled_from(_TEXTS)), draw)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_random_layouts_format_safely(text: str) -> None:
    assert_safe(text, compiles=True)
