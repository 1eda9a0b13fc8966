"""Did-you-mean suggestions for unknown fields, names, prizes and words (LANGUAGE.md 11.3).

The closest known text by Levenshtein distance is suggested when the distance is at most
2 or at most a third of the unknown text's length, whichever is larger; ties go to the
alphabetically first candidate.

>>> did_you_mean("user.levle", ["user.level", "user.tags"])
"; did you mean 'user.level'?"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MAX_SUGGESTED_LENGTH = 256
"""Longer unknown texts get no suggestion: the distance costs len(a) * len(b) per
candidate, and no one misspells a name that long."""


def levenshtein(a: str, b: str, limit: int | None = None) -> int:
    """Edits (insert, delete, substitute one character) that turn `a` into `b`. With
    `limit`, stops early and returns limit + 1 once the distance must exceed it."""
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def closest(unknown: str, candidates: Iterable[str]) -> str | None:
    """The candidate to suggest for `unknown`, or None when none is close enough."""
    if len(unknown) > MAX_SUGGESTED_LENGTH:
        return None
    limit = max(2, len(unknown) // 3)
    best: tuple[int, str] | None = None
    for candidate in candidates:
        if candidate == unknown:
            continue
        distance = levenshtein(unknown, candidate, limit)
        if distance <= limit and (best is None or (distance, candidate) < best):
            best = (distance, candidate)
    return best[1] if best is not None else None


def did_you_mean(unknown: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'X'?` for the closest candidate, or "" when none is close."""
    match = closest(unknown, candidates)
    return f"; did you mean '{match}'?" if match is not None else ""


def unknown_word(kind: str, word: str, allowed: Sequence[str]) -> str:
    """`unknown stage 'shops'; did you mean 'shop'?`, or the allowed words when none is
    close, so the operator always learns what may be written there."""
    hint = did_you_mean(word, allowed)
    if not hint:
        hint = "; expected one of: " + ", ".join(allowed)
    return f"unknown {kind} '{word}'{hint}"
