"""engine/codes.py: Crockford base32 codes with a routing tag and a check symbol."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from engine.codes import (
    ALPHABET,
    CHECK_ALPHABET,
    CODE_LENGTH,
    base32_80,
    is_well_formed,
    new_code,
    route_tag,
    tag_of,
)


def test_alphabets() -> None:
    assert len(ALPHABET) == 32 and not set("ILOU") & set(ALPHABET)
    assert len(CHECK_ALPHABET) == 37 and CHECK_ALPHABET.endswith("*~$=U")


def test_route_tag_is_three_stable_crockford_characters() -> None:
    tag = route_tag("flash_coupon")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{3}", tag)
    assert route_tag("flash_coupon") == tag
    tags = {route_tag(f"campaign_{i}") for i in range(200)}
    assert len(tags) > 150  # 15 bits: spread over the slots


def test_new_codes_are_well_formed_unique_and_carry_their_tag() -> None:
    tag = route_tag("c30")
    codes = {new_code(tag) for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:200]:
        assert len(code) == CODE_LENGTH == 20
        assert tag_of(code) == tag
        assert is_well_formed(code)


def test_a_single_mistyped_character_is_caught() -> None:
    code = new_code(route_tag("c30"))
    for position in range(CODE_LENGTH):
        for replacement in CHECK_ALPHABET if position == CODE_LENGTH - 1 else ALPHABET:
            if replacement != code[position]:
                typo = code[:position] + replacement + code[position + 1 :]
                assert not is_well_formed(typo), typo


def test_two_swapped_neighbours_are_caught() -> None:
    code = new_code(route_tag("c30"))
    for i in range(CODE_LENGTH - 2):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert not is_well_formed(swapped)


def test_only_the_canonical_form_is_well_formed() -> None:
    code = new_code(route_tag("c30"))
    assert not is_well_formed(code.lower())
    assert not is_well_formed(code + "0")
    assert not is_well_formed(code[:-1])
    assert not is_well_formed("")
    assert not is_well_formed("T4KX9M2QH7RW3ZPB")
    assert not is_well_formed(code[:5] + "O" + code[6:])


@given(st.integers(min_value=0, max_value=(1 << 80) - 1))
def test_base32_80_is_the_value_in_crockford_digits(value: int) -> None:
    text = base32_80(value)
    assert len(text) == 16
    digits = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")  # what int() reads
    assert int(text.translate(digits), 32) == value
