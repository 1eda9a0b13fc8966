"""Names and references (LANGUAGE.md 5.4, 5.5, 2.3, 11.2): fields, segments, bare roots,
`item` scope, coupon item filters, runtime lists, reserved names and duplicates."""

from __future__ import annotations

import pytest

from dsl.checker import check_ruleset
from dsl.errors import Diagnostic
from dsl.parser import parse_ruleset

HEADER = 'ruleset "t"\ntimezone "Asia/Shanghai"\ncurrency CNY\n'


def diagnose(text: str) -> list[Diagnostic]:
    return check_ruleset(parse_ruleset(text))


def errors(text: str) -> list[tuple[int, int, str]]:
    return [
        (d.span.line, d.span.column, d.message) for d in diagnose(text) if d.severity == "error"
    ]


def at(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """Line and column of the nth occurrence of `needle` in `text`."""
    index = -1
    for _ in range(nth):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def rules(body: str, *, before: str = "", reward: str = "discount { value 10 off }") -> str:
    return (
        f"{HEADER}{before}campaign c {{\n    window 2026-11-11 .. 2026-11-11\n"
        f"    {body}\n    {reward}\n}}\n"
    )


def only_error(text: str, needle: str, phrase: str, nth: int = 1) -> str:
    """The one error of `text`: at `needle`, containing `phrase`; returns the message."""
    found = errors(text)
    assert len(found) == 1, found
    line, column, message = found[0]
    assert (line, column) == at(text, needle, nth), found
    assert phrase in message, message
    return message


COUPON = "coupon k {{ value 5 off  on items where {} }}\n    limit per user 1"


def test_unknown_field_suggests_the_closest_path() -> None:
    text = rules("when user.levle >= 1")
    message = only_error(text, "user.levle", "unknown field 'user.levle'")
    assert message.endswith("; did you mean 'user.level'?")


def test_unknown_field_without_a_close_one_has_no_suggestion() -> None:
    message = only_error(rules('when user.favourite == "x"'), "user.favourite", "unknown field")
    assert "did you mean" not in message


def test_unknown_root_is_an_unknown_field_with_the_whole_path_suggested() -> None:
    only_error(rules("when usr.level >= 1"), "usr.level", "did you mean 'user.level'?")


def test_declared_attribute_is_a_field_and_a_candidate() -> None:
    before = "context {\n    user.city: string\n}\n"
    assert errors(rules('when user.city == "x"', before=before)) == []
    text = rules('when user.ctiy == "x"', before=before)
    only_error(text, "user.ctiy", "did you mean 'user.city'?")


def test_cart_items_explains_how_items_are_reached() -> None:
    only_error(rules("when cart.items >= 1"), "cart.items", "any, all, count and sum")


def test_unknown_name_suggests_a_segment_declared_above() -> None:
    before = "segment members = user.level >= 1\n"
    text = rules('when memebrs and channel == "app"', before=before)
    only_error(text, "memebrs", "unknown name 'memebrs'; did you mean 'members'?")


def test_unknown_name_suggests_a_bare_root() -> None:
    only_error(rules('when chanel == "app"'), "chanel", "did you mean 'channel'?")


def test_segment_declared_below_is_unknown_and_says_where_it_is() -> None:
    text = rules("when late", before="") + "segment late = user.level >= 1\n"
    message = only_error(text, "late", "unknown name 'late'")
    assert "declared at line 9" in message


def test_segment_may_use_the_segments_above_it_only() -> None:
    text = HEADER + "segment a = b\nsegment b = user.is_new\n"
    assert next(m for _, _, m in errors(text)).startswith("unknown name 'b'")


@pytest.mark.parametrize("root", ["user", "cart", "device", "referral"])
def test_root_with_fields_written_bare(root: str) -> None:
    message = only_error(rules(f"when {root} == 1"), root, f"'{root}' needs a field, e.g. '{root}.")
    assert f"{root}." in message.split("(", 1)[1]


def test_bare_user_names_the_example_and_its_fields() -> None:
    message = only_error(rules("when user"), "user", "'user' needs a field, e.g. 'user.level'")
    assert "user.risk_score" in message


def test_item_outside_its_scope_is_reported_at_the_path() -> None:
    text = rules('when cart.total >= 100 and item.category == "shoes"')
    only_error(text, "item.category", "'item' is only available in 'on items where', any, all")


def test_item_in_a_segment_explains_why() -> None:
    text = HEADER + 'segment s = item.category == "x"\n'
    message = next(m for _, _, m in errors(text))
    assert "'item' is only available" in message and "once per request" in message


def test_item_inside_any_all_count_sum_and_a_discount_filter() -> None:
    body = (
        'when any(items where item.category == "x") and all(items where item.qty >= 1)'
        " and count(items where item.price > 5) >= 2 and sum(item.price * item.qty for items"
        ' where "a" in item.tags) >= 100'
    )
    assert errors(rules(body)) == []
    reward = 'discount { value 5 off  on items where item.shop == "s1" and members }'
    before = "segment members = user.level >= 1\n"
    assert errors(rules("priority 1", before=before, reward=reward)) == []


def test_item_in_any_inside_a_segment_is_allowed() -> None:
    text = HEADER + 'segment shoes = any(items where item.category == "shoes")\n'
    assert errors(text) == []


@pytest.mark.parametrize(
    ("filter_", "needle"),
    [
        ('item.shop == "s88" and members', "members"),
        ("item.price >= 10 and user.level >= 1", "user.level"),
        ('channel == "app"', "channel"),
        ('item.sku in list "skus"', "list"),
        ("now >= 2026-01-01", "now"),
    ],
)
def test_coupon_filter_reads_only_item_fields(filter_: str, needle: str) -> None:
    before = "segment members = user.level >= 1\n"
    text = rules("priority 1", before=before, reward=COUPON.format(filter_))
    phrase = "a coupon's item filter can read only item fields"
    only_error(text, needle, phrase, nth=1 + before.count(needle))


def test_coupon_filter_reads_item_fields_and_literals() -> None:
    filter_ = 'item.shop == "s88" and "clearance" not in item.tags and item.price * 2 > 10'
    assert errors(rules("priority 1", reward=COUPON.format(filter_))) == []


def test_coupon_filter_applies_to_pack_coupons_and_coupon_prizes() -> None:
    pack = (
        'pack p { coupon k { value 5 off  on items where channel == "app" } stock 5 }\n'
        "    limit per user 1"
    )
    only_error(rules("priority 1", reward=pack), "channel", "can read only item fields")
    prize = (
        "lottery { prize k coupon { value 5 off  on items where user.is_new } weight 1 }\n"
        "    limit per user 1"
    )
    only_error(rules("priority 1", reward=prize), "user.is_new", "can read only item fields")


def test_runtime_list_only_after_in() -> None:
    text = rules('when list "vips" == "x"')
    only_error(text, "list", "list \"vips\" can only follow 'in' or 'not in'")
    assert errors(rules('when user.id in list "vips" and ip not in list "bad"')) == []


@pytest.mark.parametrize("word", ["daily", "items", "tier"])
def test_keyword_cannot_name_a_segment(word: str) -> None:
    text = HEADER + f"segment {word} = user.is_new\n"
    message = errors(text)[0][2]
    assert message == f"'{word}' is a keyword and cannot be used as a name"


def test_context_root_cannot_name_a_segment() -> None:
    text = HEADER + "segment user = user.is_new\n"
    assert errors(text) == [(4, 9, "'user' is a context root and cannot name a segment")]


def test_keyword_cannot_name_a_campaign_reward_prize_group_or_attribute() -> None:
    text = (
        f"{HEADER}context {{\n    user.items: int\n}}\n"
        "campaign daily {\n    window 2026-11-11 .. 2026-11-11\n    group stock\n"
        "    coupon value { value 5 off  stock 1 }\n    limit per user 1\n}\n"
        "campaign d {\n    window 2026-11-11 .. 2026-11-11\n"
        '    lottery { prize tier "T" weight 1 }\n    limit per user 1\n}\n'
    )
    words = [m.split("'")[1] for _, _, m in errors(text)]
    assert words == ["items", "daily", "stock", "value", "tier"]


def test_duplicate_campaign_segment_reward_prize_attribute() -> None:
    text = (
        f"{HEADER}context {{\n    user.city: string\n    user.city: string\n}}\n"
        "segment s = user.is_new\nsegment s = user.is_new\n"
        "campaign c {\n    window 2026-11-11 .. 2026-11-11\n    when s\n"
        "    coupon k { value 5 off  stock 1 }\n"
        "    pack p { coupon k { value 1 off } stock 1 }\n    limit per user 1\n}\n"
        "campaign c {\n    window 2026-11-11 .. 2026-11-11\n"
        '    lottery { prize x "X" weight 1  prize x "Y" weight 1 }\n    limit per user 1\n}\n'
    )
    assert [(line, m) for line, _, m in errors(text)] == [
        (6, "duplicate attribute 'user.city' (first declared at line 5)"),
        (9, "duplicate segment 's' (first declared at line 8)"),
        (14, "duplicate reward 'k' (first declared at line 13)"),
        (17, "duplicate campaign 'c' (first declared at line 10)"),
        (19, "duplicate prize 'x' (first declared at line 19)"),
    ]
