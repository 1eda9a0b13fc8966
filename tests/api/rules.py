"""Rule files for the API tests (written to a temporary RULES_DIR by the fixtures), and
the instant the tests' engine clock shows: 2027-03-10 10:00 in Shanghai."""

from __future__ import annotations

from pathlib import Path

NOW = 1_804_644_000  # 2027-03-10T10:00:00+08:00

SHOP = """\
ruleset "shop"
timezone "Asia/Shanghai"
currency CNY

segment blocked = user.id in list "blocked_users"

campaign free_ship "Free shipping from 99" {
    window 2026-01-01 .. 2030-12-31
    discount {
        free shipping
        min spend 99
    }
    group delivery
}

campaign home_300 "Home goods: 30 off 300" {
    window 2026-01-01 .. 2030-12-31
    deny when blocked
    discount {
        tiers {
            spend 300 save 30
            spend 600 save 70
        }
        on items where item.category in ["home", "kitchen"]
    }
}

campaign coupon_centre "Coupon centre: 10 off 99" {
    window 2026-01-01 .. 2030-12-31
    deny when blocked
    coupon c10 "10 off 99" {
        value 10 off
        min spend 99
        valid 7d after claim
        stock 3 per day
    }
    limit per user 1 per day
}

campaign pick_one "Two coupons to pick from" {
    window 2026-01-01 .. 2030-12-31
    coupon a5 "5 off" {
        value 5 off
        valid 7d after claim
    }
    coupon b8 "8 off 50" {
        value 8 off
        min spend 50
        valid 7d after claim
    }
    limit per user 5
}

campaign spring_later "Starts in 2029" {
    window 2029-03-01 .. 2029-03-31
    discount {
        value 5 off
        min spend 10
    }
}
"""

# A second version of "shop": the coupon centre gives 15 off.
SHOP_V2 = SHOP.replace(
    'coupon c10 "10 off 99" {\n        value 10 off',
    'coupon c10 "15 off 99" {\n        value 15 off',
)

BROKEN = """\
ruleset "broken"
timezone "Asia/Shanghai"
currency CNY
campaign c { window 2026-11-11 .. 2026-11-11  when user.levle >= 1  discount { value 5 off } }
"""

EXTRA = """\
ruleset "extra"
timezone "Asia/Shanghai"
currency CNY

campaign extra_gift "Extra: 1 off 10" {
    window 2026-01-01 .. 2030-12-31
    discount {
        value 1 off
        min spend 10
    }
}
"""


def write_rules(folder: Path, files: dict[str, str] | None = None) -> Path:
    files = files if files is not None else {"shop.promo": SHOP}
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
