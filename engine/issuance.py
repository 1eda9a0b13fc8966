"""What the store keeps about how a coupon was issued: its frozen terms (dsl/terms.py) and
its campaign's placement in the issuing version (stage, group, priority, file position).

A coupon competes in its campaign's group and stage in the active version; when its
campaign has left the active version, in those of the version that issued it (LANGUAGE.md
7.6, 10.9). So the placement travels with the terms, under one content-addressed id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from dsl.model import Campaign, CompiledRuleset, CouponSpec, Terms
from dsl.terms import freeze, thaw


@dataclass(frozen=True, slots=True)
class Placement:
    ruleset: str
    campaign: str
    stage: str
    group: str
    group_name: str | None
    priority: int
    index: int


def issue_record(spec: CouponSpec, ruleset: CompiledRuleset, campaign: Campaign) -> tuple[str, str]:
    """(id, canonical text) of a coupon's terms and its campaign's placement."""
    _, terms_text = freeze(spec, ruleset)
    doc: dict[str, Any] = {
        "terms": json.loads(terms_text),
        "issued_by": {
            "ruleset": ruleset.id, "campaign": campaign.id, "stage": campaign.stage,
            "group": campaign.group, "group_name": campaign.group_name,
            "priority": campaign.priority, "index": campaign.index,
        },
    }  # fmt: skip
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16], text


def read_issue_record(text: str) -> tuple[Terms, Placement]:
    doc = json.loads(text)
    terms_text = json.dumps(doc["terms"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return thaw(terms_text), Placement(**doc["issued_by"])
