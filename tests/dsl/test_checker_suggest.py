"""Did-you-mean (LANGUAGE.md 11.3): Levenshtein distance, a threshold of max(2, len/3),
ties to the alphabetically first."""

from __future__ import annotations

import pytest

from dsl.suggest import closest, did_you_mean, levenshtein, unknown_word


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("", "abc", 3), ("kitten", "sitting", 3), ("user.levle", "user.level", 2),
     ("shops", "shop", 1), ("same", "same", 0), ("ab", "ba", 2)],
)  # fmt: skip
def test_levenshtein(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance == levenshtein(b, a)


def test_threshold_is_at_least_two() -> None:
    assert closest("ab", ["xy"]) == "xy"  # distance 2 on a short word
    assert closest("ab", ["xyz"]) is None  # distance 3 > max(2, 2/3)


def test_threshold_grows_with_a_third_of_the_length() -> None:
    word = "abcdefghijkl"  # 12 characters: up to 4 edits
    assert closest(word, ["abcdefghWXYZ"]) == "abcdefghWXYZ"
    assert closest(word, ["abcdefgVWXYZ"]) is None  # 5 edits


def test_ties_go_to_the_alphabetically_first() -> None:
    assert closest("cat", ["hat", "bat", "rat"]) == "bat"
    assert closest("D", ["S", "A", "B", "C"]) == "A"


def test_the_closest_wins_over_the_alphabetically_first() -> None:
    assert closest("membrs", ["aembrs_x", "members"]) == "members"


def test_did_you_mean_and_unknown_word() -> None:
    assert did_you_mean("user.levle", ["user.level", "user.tags"]) == "; did you mean 'user.level'?"
    assert did_you_mean("zzzzzz", ["user.level"]) == ""
    assert unknown_word("stage", "shops", ["item", "shop", "platform"]) == (
        "unknown stage 'shops'; did you mean 'shop'?"
    )
    assert unknown_word("goal", "x" * 10, ["brand", "referral"]) == (
        "unknown goal 'xxxxxxxxxx'; expected one of: brand, referral"
    )


def test_levenshtein_with_a_limit_stops_early() -> None:
    assert levenshtein("abcdef", "uvwxyz", limit=2) == 3
    assert levenshtein("a" * 50, "a", limit=3) == 4
    assert levenshtein("shops", "shop", limit=2) == 1


def test_long_unknown_texts_are_cheap_and_get_no_suggestion() -> None:
    long_name = "x" * 5000
    assert closest(long_name, [long_name + "y", "x" * 4999]) is None
    assert closest("x" * 250, ["x" * 249]) == "x" * 249
