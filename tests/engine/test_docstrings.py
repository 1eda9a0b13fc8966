"""The examples in the docstrings of the pure engine modules run as written."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from engine import benefits, clock, codes, context, evaluate, money, periods, schedule
from engine.store import lane

MODULES = [benefits, clock, codes, context, evaluate, money, periods, schedule, lane]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    failures, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
