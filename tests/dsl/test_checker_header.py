"""The header and the `context` block (LANGUAGE.md 3.1, 3.2, 11.2)."""

from __future__ import annotations

import pytest

from dsl.checker import check_ruleset
from dsl.errors import Diagnostic
from dsl.parser import parse_ruleset

CAMPAIGN = "campaign c {\n    window 2026-11-11 .. 2026-11-11\n    discount { value 1 off }\n}\n"


def diagnose(text: str) -> list[Diagnostic]:
    return check_ruleset(parse_ruleset(text))


def errors(text: str) -> list[tuple[int, int, str]]:
    return [
        (d.span.line, d.span.column, d.message) for d in diagnose(text) if d.severity == "error"
    ]


def rules(
    ruleset: str = "t", tz: str = "Asia/Shanghai", currency: str = "CNY", context: str = ""
) -> str:
    block = f"context {{\n{context}\n}}\n" if context else ""
    return f'ruleset "{ruleset}"\ntimezone "{tz}"\ncurrency {currency}\n{block}{CAMPAIGN}'


@pytest.mark.parametrize("ruleset", ["double11-2026", "a", "A.b_c-9", "x" * 64])
def test_valid_ruleset_ids(ruleset: str) -> None:
    assert errors(rules(ruleset)) == []


@pytest.mark.parametrize("ruleset", ["", "x" * 65, "double 11", "双十一", "a/b"])
def test_invalid_ruleset_id_at_the_string(ruleset: str) -> None:
    found = errors(rules(ruleset))
    assert len(found) == 1 and found[0][:2] == (1, 9)
    assert found[0][2].startswith("invalid ruleset id")


def test_unknown_timezone_suggests_the_close_one() -> None:
    found = errors(rules(tz="Asia/Shangai"))
    assert found == [(2, 10, "unknown timezone 'Asia/Shangai'; did you mean 'Asia/Shanghai'?")]


@pytest.mark.parametrize("tz", ["", "Mars/Olympus", "../../etc/passwd", "x" * 300])
def test_unknown_timezone_never_raises(tz: str) -> None:
    found = errors(rules(tz=tz))
    assert len(found) == 1 and found[0][2].startswith(f"unknown timezone '{tz}'")


def test_unknown_currency_with_suggestion_or_list() -> None:
    assert errors(rules(currency="CNH")) == [(3, 10, "unknown currency 'CNH'; did you mean 'CNY'?")]
    # RMB is two edits from THB: the rule of 11.3 suggests it, as for any word.
    assert errors(rules(currency="RMB"))[0][2] == "unknown currency 'RMB'; did you mean 'THB'?"
    message = errors(rules(currency="YUAN"))[0][2]
    assert message.startswith("unknown currency 'YUAN'; expected one of: CNY, HKD")


def test_unknown_currency_does_not_report_amounts_again() -> None:
    text = rules(currency="RMB").replace("value 1 off", "value 1.505 off")
    assert len(errors(text)) == 1


def test_context_declarations_are_fields() -> None:
    context = (
        '    user.city: string = ""\n    user.orders: int = 0\n    user.shift: int = -5\n'
        "    user.ratio: decimal = -0.5\n    user.credit: money = 19.90\n"
        "    user.vip_until: datetime\n"
        "    user.since: datetime = 2026-01-01 10:00\n    user.cool: duration = 7d\n"
        '    item.brand: string\n    cart.coupon_channel: string = "none"\n'
        '    user.labels: list of string = ["a", "b"]\n    user.ids: list of int = [1, -2]\n'
        "    user.ok: bool = true"
    )
    assert errors(rules(context=context)) == []


def test_attribute_on_another_root() -> None:
    found = errors(rules(context="    device.model: string"))
    assert found == [(5, 5, "attributes can be declared only on user, item and cart")]


def test_built_in_field_declared_at_its_name() -> None:
    assert errors(rules(context="    user.level: int")) == [
        (5, 10, "'user.level' is a built-in field")
    ]


def test_duplicate_attribute() -> None:
    found = errors(rules(context="    item.brand: string\n    item.brand: int"))
    assert found == [(6, 10, "duplicate attribute 'item.brand' (first declared at line 5)")]


@pytest.mark.parametrize(
    ("declared", "phrase"),
    [
        ("user.x: str", "unknown type 'str'; expected one of: bool, int, decimal, money, string"),
        ("user.x: integer", "unknown type 'integer'"),
        ("user.x: strin", "unknown type 'strin'; did you mean 'string'?"),
        ("user.x: list of strings", "unknown type 'strings'; did you mean 'string'?"),
        ("user.x: list of bool", "unknown type 'bool'; expected one of: string, int"),
    ],
)
def test_unknown_type_at_the_word(declared: str, phrase: str) -> None:
    found = errors(rules(context=f"    {declared}"))
    assert len(found) == 1 and phrase in found[0][2], found
    assert found[0][1] == 5 + declared.rindex(" ") + 1


@pytest.mark.parametrize(
    ("declared", "default", "phrase"),
    [
        (
            "user.orders: int",
            '"0"',
            "type mismatch: default of 'user.orders' must be int, found string",
        ),
        ("user.orders: int", "1.5", "must be int, found a decimal number"),
        ("user.flag: bool", "1", "must be bool, found number"),
        ("user.name: string", "true", "must be string, found bool"),
        ("user.credit: money", "-5", "must be money, found a negative amount"),
        ("user.credit: money", "1.999", "CNY amounts have at most 2 decimal places"),
        ("user.since: datetime", '"2026-01-01"', "must be datetime, found string"),
        ("user.since: datetime", "2026-02-30", "invalid date '2026-02-30'"),
        ("user.cool: duration", "7", "must be duration, found number"),
        ("user.tags2: list of string", '"a"', "must be list of string, found string"),
        ("user.tags2: list of string", '["a", 1]', "must be string, found number"),
        ("user.ids: list of int", "[1, 2.5]", "must be int, found a decimal number"),
        ("user.n: int", "[1]", "must be int, found list"),
    ],
)
def test_attribute_default_type(declared: str, default: str, phrase: str) -> None:
    text = rules(context=f"    {declared} = {default}")
    found = errors(text)
    assert len(found) == 1 and phrase in found[0][2], found
    line = text.splitlines()[found[0][0] - 1]
    bad = {'["a", 1]': "1", "[1, 2.5]": "2.5"}.get(default, default)
    assert found[0][1] == line.rindex(bad) + 1


def test_default_in_jpy_has_no_decimals() -> None:
    found = errors(rules(currency="JPY", context="    user.credit: money = 5.5"))
    assert [m for _, _, m in found] == [
        "JPY amounts have at most 0 decimal places (JPY has no minor unit)"
    ]
