"""Property tests: whatever the text, parse + check + compile return a compiled ruleset or
raise `RuleError`, and every diagnostic (errors and warnings) has a valid position; never
another exception, never slow (STYLE.md, after jmespath's extra/test_hypothesis.py).

Inputs: the spec examples mutated token by token (delete, duplicate, swap, insert a token
or random characters), random text over the characters that matter, and soups of
tokens. 10,000 inputs in all (`INPUTS`), derandomized so that every run checks the same.

The code under test is `run_target`, in one place.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compiler import compile_text
from dsl.errors import Diagnostic, RuleError
from dsl.parser import _parse
from dsl.vocabulary import KEYWORDS

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"
EXAMPLES = [p.read_text(encoding="utf-8") for p in sorted((SPEC / "examples").glob("*.promo"))]
FILE = "fuzz.promo"
SLOW = 1.0  # seconds: no input may take longer
INPUTS = {"mutated": 5_000, "random_text": 3_000, "token_soup": 2_000}  # 10,000 in all

# How the mutations cut text into tokens: close enough to the real lexer to make
# plausible edits, loose enough to split anything.
_PIECES = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\s+|[A-Za-z_]\w*|[0-9][\w.:%-]*|\.\.|[=!<>]=|.', re.S
)
_SPLIT = [_PIECES.findall(text) for text in EXAMPLES]
_POOL = [
    *sorted(KEYWORDS),
    "{", "}", "(", ")", "[", "]", ",", ".", "..", ":", "=", "==", "!=", "<", "<=", ">", ">=",
    "+", "-", "*", "@", ";", '"', '"x"', '"\\q"', "#", "\n", "\r\n", "\r", "\t", " ",
    "0", "7", "19.90", "15%", "7d", "10min", "2026-11-11", "2026-1-1", "2026-02-30",
    "10:30", "24:00", "23:59:59", "user", "item", "user.level", "S", "day", "满", "\ufeff",
    "\u2028", "\x00", "9" * 120,
]  # fmt: skip
_CHARS = 'abcxyz_ABS019 \t\n\r"\\#{}()[],.:=<>!+-*%@;满€\u2028\x00'
_settings = settings(
    derandomize=True,
    database=None,
    deadline=None,  # the time bound is checked by `check`, on the target alone
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def run_target(text: str) -> list[Diagnostic]:
    """The code under test, in one place: the whole pipeline a rule file goes through
    (parse, check, compile); returns the warnings of a file that compiles."""
    _, warnings = compile_text(text, FILE)
    return warnings


def check(text: str) -> None:
    """A tree, or a RuleError whose diagnostics all point inside the text; quickly."""
    started = time.perf_counter()
    try:
        diagnostics = run_target(text)
    except RuleError as exc:
        assert exc.diagnostics, "a RuleError must say what is wrong"
        diagnostics = exc.diagnostics
    lines = text.count("\n") + 1
    for d in diagnostics:
        assert d.span.file == FILE
        assert 1 <= d.span.line <= lines + 1, (d.format(), lines)
        assert d.span.column >= 1, d.format()
        assert d.message
    elapsed = time.perf_counter() - started
    if elapsed >= SLOW:
        # The box is shared: time it again; a slow input stays slow every time.
        elapsed = min(elapsed, best_time(text, tries=2))
    assert elapsed < SLOW, f"{elapsed:.2f} s for {len(text)} characters"


def best_time(text: str, tries: int) -> float:
    """The shortest of `tries` runs of `run_target` on `text`, in seconds."""
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        with contextlib.suppress(RuleError):
            run_target(text)
        times.append(time.perf_counter() - started)
    return min(times)


def same_with_larks_runtime(text: str) -> None:
    """The fast runtime (parser.py) and Lark's stock one agree on trees and errors."""

    def outcome(fast: bool) -> object:
        try:
            return _parse(text, FILE, fast=fast)
        except RuleError as exc:
            return exc.diagnostics

    assert outcome(True) == outcome(False)


with contextlib.suppress(RuleError):
    run_target("")  # builds the parser (once per process) before any input is timed


# --- strategies ------------------------------------------------------------------------------

_edit = st.tuples(
    st.sampled_from(["delete", "duplicate", "swap", "insert", "chars"]),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(_POOL),
    st.text(alphabet=_CHARS, min_size=1, max_size=6),
)


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    pieces = list(_SPLIT[draw(st.integers(0, len(_SPLIT) - 1))])
    for op, i, j, token, chars in draw(st.lists(_edit, min_size=1, max_size=8)):
        i, j = i % len(pieces), j % len(pieces)
        if op == "delete" and len(pieces) > 1:
            del pieces[i]
        elif op == "duplicate":
            pieces.insert(i, pieces[i])
        elif op == "swap":
            pieces[i], pieces[j] = pieces[j], pieces[i]
        elif op == "insert":
            pieces.insert(i, token)
        else:
            pieces.insert(i, chars)
    return "".join(pieces)


_soup = st.lists(st.sampled_from(_POOL), min_size=0, max_size=60).map(
    lambda tokens: " ".join(tokens)
)
_header = 'ruleset "f"\ntimezone "UTC"\ncurrency CNY\n'


# --- properties --------------------------------------------------------------------------------


@settings(_settings, max_examples=INPUTS["mutated"])
@given(mutated_examples())
def test_mutated_examples(text: str) -> None:
    check(text)


@settings(_settings, max_examples=INPUTS["random_text"])
@given(st.text(alphabet=_CHARS, max_size=200) | st.text(max_size=100))
def test_random_text(text: str) -> None:
    check(text)
    check(_header + text)


@settings(_settings, max_examples=INPUTS["token_soup"])
@given(_soup, st.booleans())
def test_token_soup(text: str, with_header: bool) -> None:
    check(_header + text if with_header else text)


@settings(_settings, max_examples=300)
@given(mutated_examples())
def test_fast_runtime_agrees_with_larks_own(text: str) -> None:
    same_with_larks_runtime(text)
