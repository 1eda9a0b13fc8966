"""JSON request context -> `dsl.context.Context` (LANGUAGE.md 4), or `ContextError`.

This runs on every request, before any rule, so it is written for speed: one pass over
the fields the spec defines, exact type checks (`type(v) is int`, so a bool is never an
int), precompiled patterns, money converted to integer minor units, and nothing built
that the compiled rules will not read. Fields the spec does not define are ignored;
declared attributes stay raw JSON for each ruleset's `bind` (3.2). A JSON `null` is a
value of the wrong type, never "absent".

Errors name the offending field the way a client wrote it: `cart.items[0].price`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Collection
from typing import Any, NoReturn

from dsl.context import Context, ContextError, Item
from dsl.localtime import parse_instant

_MISSING: Any = object()
_NO_TAGS: tuple[str, ...] = ()
# Shared by every line without attributes: nothing writes to a context's attribute objects.
_NO_ATTRIBUTES: dict[str, Any] = {}
_STRING = "must be a string"
_INTEGER = "must be an integer"
_BOOLEAN = "must be true or false"
_REFERRAL_FIELDS = (
    ("event", "referral_event"),
    ("inviter", "referral_inviter"),
    ("invitee", "referral_invitee"),
    ("invitee_device", "referral_invitee_device"),
)
_SCALES: tuple[int, ...] = tuple(10**k for k in range(10))
_MAX_MONEY_TEXT = 32  # longer amounts are nonsense and would make int() slow
# The length of ".<k digits>" after the whole part of an amount with all k decimals; with
# k = 0 there is no such amount (`len(text) - tail` is then never a position).
_TAILS: tuple[int, ...] = (1 << 30, *(k + 1 for k in range(1, 10)))
_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_IPV4_OCTET}\.){{3}}{_IPV4_OCTET}")
# Date-time and IP texts repeat across a user's requests: remembering the ones seen makes
# most of them one dict lookup. Bounded by clearing, which costs one re-parse per text.
# Money texts are not remembered: `_money_text` converts one in a few hundred ns, and a
# cache would be shared across requests (a benchmark must not count on one).
_CACHE_SIZE = 8192
_INSTANT_CACHE: dict[str, int] = {}
_IP_CACHE: dict[str, tuple[str, str]] = {}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)
_new = object.__new__
_CONTEXT_SLOTS = frozenset(
    "now currency user_id level risk_score is_new phone_verified user_tags registered_at "
    "account_age user_attributes items total shipping cart_attributes channel region "
    "device_id ip ip_scope referral_event referral_inviter referral_invitee "
    "referral_invitee_device".split()
)
_ITEM_SLOTS = frozenset("index sku category shop price qty amount tags attributes".split())
if frozenset(Context.__slots__) != _CONTEXT_SLOTS or frozenset(Item.__slots__) != _ITEM_SLOTS:
    # parse_context and _items write every slot themselves instead of calling __init__.
    raise ImportError("engine/context.py: parse_context must write every Context and Item slot")


def resolve_currency(raw_cart: object, loaded_currencies: Collection[str]) -> str:
    """The cart's currency (LANGUAGE.md 10.9): `cart.currency` when it names a currency of
    a loaded ruleset; without it, the one currency all loaded rulesets share."""
    if type(raw_cart) is dict and "currency" in raw_cart:
        currency = raw_cart["currency"]
        if type(currency) is not str:
            raise ContextError("cart.currency", "must be a string")
        if currency not in loaded_currencies:
            raise ContextError("cart.currency", f"no loaded ruleset is in {currency!r}")
        return currency
    distinct = sorted(set(loaded_currencies))
    if len(distinct) == 1:
        return distinct[0]
    if not distinct:
        raise ContextError("cart.currency", "no ruleset is loaded")
    listed = ", ".join(distinct)
    raise ContextError("cart.currency", f"is required: the loaded rulesets use {listed}")


def parse_money(value: object, minor_units: int, path: str) -> int:
    """A JSON money value (LANGUAGE.md 4) in minor units: a string matching
    `^(0|[1-9][0-9]*)(\\.[0-9]{1,k})?$` or a non-negative integer.

    >>> parse_money("19.9", 2, "p"), parse_money(5, 2, "p"), parse_money("500", 0, "p")
    (1990, 500, 500)
    """
    if type(value) is str:
        minor = _money_text(value, minor_units)
        if minor is not None:
            return minor
    elif type(value) is int and value >= 0:
        return value * _SCALES[minor_units]
    decimals = f"at most {minor_units} decimals" if minor_units else "no decimals"
    raise ContextError(path, f"must be an amount: a string like \"19.90\" ({decimals}) "
                       "or a non-negative integer")  # fmt: skip


def _money_text(value: str, minor_units: int) -> int | None:
    """A money string in minor units; None when it breaks the pattern."""
    # ^(0|[1-9][0-9]*)(\.[0-9]{1,k})?$ with str methods, cheaper than a regex match: the
    # digits on both sides of the dot are checked and converted as one string. The usual
    # amount has all k decimals: its dot is found by position.
    at = len(value) - _TAILS[minor_units]
    if at > 0 and value[at] == ".":
        digits = value.replace(".", "", 1)
        if (
            digits.isdigit()
            and value.isascii()
            and (value[0] != "0" or at == 1)
            and len(value) <= _MAX_MONEY_TEXT
        ):
            return int(digits)
        return None
    whole, dot, frac = value.partition(".")
    n = len(frac)
    digits = whole + frac if n else whole
    if (
        digits.isdigit()
        and value.isascii()
        and whole
        and (whole[0] != "0" or len(whole) == 1)
        and n <= minor_units
        and (n or not dot)
        and len(value) <= _MAX_MONEY_TEXT
    ):
        return int(digits) * _SCALES[minor_units - n]
    return None


def normalise_ip(text: str) -> tuple[str, str]:
    """(normalised address, what IP limits count): the address for IPv4, the /64 prefix
    for IPv6. An IPv4-mapped IPv6 address is its IPv4 address. Raises ValueError.

    >>> normalise_ip("2001:DB8:1:2:0:0:0:7"), normalise_ip("::ffff:203.0.113.7")
    (('2001:db8:1:2::7', '2001:db8:1:2::/64'), ('203.0.113.7', '203.0.113.7'))
    """
    if _IPV4.fullmatch(text) is not None:
        return text, text
    if "%" in text:
        raise ValueError("an address with a zone")
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is None:
            prefix = ipaddress.IPv6Address(int(address) >> 64 << 64)
            return str(address), f"{prefix}/64"
        address = mapped
    normal = str(address)
    return normal, normal


def parse_context(raw: dict[str, Any], *, now: int, currency: str, minor_units: int) -> Context:
    """Validate a JSON context (LANGUAGE.md 4) for a cart in `currency`.

    >>> ctx = parse_context({"cart": {"items": [{"sku": "A", "price": "9.90", "qty": 2}]}},
    ...                     now=0, currency="CNY", minor_units=2)
    >>> ctx.total, ctx.items[0].amount
    (1980, 1980)
    """
    if type(raw) is not dict:
        raise ContextError("context", "must be an object")
    # Every slot is written exactly once below (`_CONTEXT_SLOTS`), so `Context.__init__`,
    # which would write all 24 defaults first, is skipped: a third of an empty context.
    ctx = _new(Context)
    ctx.now = now
    ctx.currency = currency
    get = raw.get
    value = get("user", _MISSING)
    if value is _MISSING:
        _no_user(ctx, now)
    else:
        _user(ctx, value, now)
    value = get("cart", _MISSING)
    if value is _MISSING:
        ctx.items, ctx.total, ctx.shipping, ctx.cart_attributes = (), 0, 0, {}
    else:
        _cart(ctx, value, currency, minor_units)
    value = ctx.channel = get("channel", "")
    if type(value) is not str:
        raise ContextError("channel", _STRING)
    value = ctx.region = get("region", "")
    if type(value) is not str:
        raise ContextError("region", _STRING)
    value = get("device", _MISSING)
    if value is _MISSING:
        ctx.device_id = ""
    else:
        value = ctx.device_id = _object(value, "device").get("id", "")
        if type(value) is not str:
            raise ContextError("device.id", _STRING)
    value = get("ip", "")
    if value:
        ctx.ip, ctx.ip_scope = _ip(value)
    elif value == "":
        ctx.ip = ctx.ip_scope = ""
    else:
        raise ContextError("ip", _STRING)
    value = get("referral", _MISSING)
    if value is _MISSING:
        ctx.referral_event = ctx.referral_inviter = ""
        ctx.referral_invitee = ctx.referral_invitee_device = ""
    else:
        _referral(ctx, _object(value, "referral"))
    return ctx


def _no_user(ctx: Context, now: int) -> None:
    ctx.user_id = ""
    ctx.level = ctx.risk_score = 0
    ctx.is_new = ctx.phone_verified = False
    ctx.user_tags = ()
    ctx.registered_at = now
    ctx.account_age = 0
    ctx.user_attributes = {}


def _user(ctx: Context, user: object, now: int) -> None:
    if type(user) is not dict:
        raise ContextError("user", "must be an object")
    get = user.get
    value = ctx.user_id = get("id", "")
    if type(value) is not str:
        raise ContextError("user.id", _STRING)
    value = ctx.level = get("level", 0)
    if type(value) is not int:
        raise ContextError("user.level", _INTEGER)
    value = ctx.risk_score = get("risk_score", 0)
    if type(value) is not int:
        raise ContextError("user.risk_score", _INTEGER)
    value = ctx.is_new = get("is_new", False)
    if type(value) is not bool:
        raise ContextError("user.is_new", _BOOLEAN)
    value = ctx.phone_verified = get("phone_verified", False)
    if type(value) is not bool:
        raise ContextError("user.phone_verified", _BOOLEAN)
    value = get("tags", _NO_TAGS)
    if value is not _NO_TAGS:
        if type(value) is not list:
            raise ContextError("user.tags", "must be a list of strings")
        for tag in value:
            if type(tag) is not str:
                raise ContextError("user.tags", "must be a list of strings")
        value = tuple(value)
    ctx.user_tags = value
    value = get("registered_at", _MISSING)
    if value is _MISSING:
        ctx.registered_at = now
        ctx.account_age = 0
    else:
        try:
            registered = _instant(_string(value, "user.registered_at"))
        except ValueError:
            raise ContextError("user.registered_at", "must be ISO 8601 with an offset") from None
        ctx.registered_at = registered
        ctx.account_age = now - registered if registered < now else 0
    value = get("attributes", _MISSING)
    if value is _MISSING:
        value = {}
    elif type(value) is not dict:
        raise ContextError("user.attributes", "must be an object")
    ctx.user_attributes = value


def _cart(ctx: Context, cart: object, currency: str, minor_units: int) -> None:
    if type(cart) is not dict:
        raise ContextError("cart", "must be an object")
    get = cart.get
    value = get("currency", currency)
    if value != currency:
        raise ContextError(
            "cart.currency", f"must be {currency}" if type(value) is str else _STRING
        )
    value = get("items", _MISSING)
    if value is _MISSING:
        ctx.items, ctx.total = (), 0
    elif type(value) is list:
        ctx.items, ctx.total = _items(value, minor_units)
    else:
        raise ContextError("cart.items", "must be a list")
    value = get("total", _MISSING)
    if value is not _MISSING:
        total = None
        if type(value) is str:
            # `_money_text`'s usual case, inline as in `_items`.
            at = len(value) - _TAILS[minor_units]
            if 0 < at <= _MAX_MONEY_TEXT - _TAILS[minor_units] and value[at] == ".":
                digits = value.replace(".", "", 1)
                if digits.isdigit() and value.isascii() and (value[0] != "0" or at == 1):
                    total = int(digits)
        if total is None:
            total = parse_money(value, minor_units, "cart.total")
        if total != ctx.total:
            raise ContextError("cart.total", "differs from the sum of price x qty of the items")
    value = get("shipping", _MISSING)
    ctx.shipping = 0 if value is _MISSING else parse_money(value, minor_units, "cart.shipping")
    value = get("attributes", _MISSING)
    ctx.cart_attributes = {} if value is _MISSING else _object(value, "cart.attributes")


def _ip(value: object) -> tuple[str, str]:
    known = _IP_CACHE.get(value) if type(value) is str else None
    if known is None:
        if type(value) is not str:
            raise ContextError("ip", _STRING)
        try:
            known = normalise_ip(value)
        except ValueError:
            raise ContextError("ip", f"{value!r} is not an IP address") from None
        if len(_IP_CACHE) >= _CACHE_SIZE:
            _IP_CACHE.clear()
        _IP_CACHE[value] = known
    return known


def _items(raw_items: list[Any], minor_units: int) -> tuple[tuple[Item, ...], int]:
    """The lines and their total. The hot loop of a request: one pass that accepts the
    usual line (a dict whose sku, price and qty are right) with as few operations as
    possible; any doubt goes to `_item_error`, which checks the line again in the order
    the errors are reported and raises."""
    scale = _SCALES[minor_units]
    tail = _TAILS[minor_units]
    most = _MAX_MONEY_TEXT - tail
    items: list[Item] = []
    append = items.append
    total = 0
    for i, raw in enumerate(raw_items):
        try:
            # Subscripts cost less than `.get()` calls; a missing key or a line that is
            # not an object (a list or a string cannot take a string subscript) is rare.
            sku = raw["sku"]
            price = raw["price"]
            qty = raw["qty"]
        except (KeyError, TypeError):
            _item_error(i, raw, minor_units)
        if type(price) is str:
            # `_money_text`, its usual case inline: a call costs a fourth of the conversion.
            at = len(price) - tail
            if 0 < at <= most and price[at] == ".":  # `most`: the longest text allowed
                digits = price.replace(".", "", 1)
                if not (digits.isdigit() and price.isascii() and (price[0] != "0" or at == 1)):
                    _item_error(i, raw, minor_units)
                price = int(digits)
            else:
                value = _money_text(price, minor_units)
                if value is None:
                    _item_error(i, raw, minor_units)
                price = value
        elif type(price) is int and price >= 0:
            price *= scale
        else:
            _item_error(i, raw, minor_units)
        if type(sku) is not str or type(qty) is not int or qty < 1 or type(raw) is not dict:
            _item_error(i, raw, minor_units)
        # Most lines are sku, price and qty, perhaps with a category: their optional
        # fields need no lookups. Fields the spec does not define count in `len(raw)`.
        extra = len(raw)
        if extra == 3:
            category = shop = ""
            tags = _NO_TAGS
            attributes = _NO_ATTRIBUTES
        elif extra == 4 and "category" in raw:
            category = raw["category"]
            if type(category) is not str:
                _item_error(i, raw, minor_units)
            shop = ""
            tags = _NO_TAGS
            attributes = _NO_ATTRIBUTES
        else:
            category = raw.get("category", "")
            shop = raw.get("shop", "")
            tags = raw.get("tags", _NO_TAGS)
            attributes = raw.get("attributes", _NO_ATTRIBUTES)
            if type(category) is not str or type(shop) is not str or type(attributes) is not dict:
                _item_error(i, raw, minor_units)
            if tags is not _NO_TAGS:
                if type(tags) is not list:
                    _item_error(i, raw, minor_units)
                for tag in tags:
                    if type(tag) is not str:
                        _item_error(i, raw, minor_units)
                tags = tuple(tags)
        # Every slot written here (`_ITEM_SLOTS`), without the call of `Item.__init__`.
        item = _new(Item)
        item.index = i
        item.sku = sku
        item.category = category
        item.shop = shop
        item.price = price
        item.qty = qty
        item.amount = amount = price * qty
        item.tags = tags
        item.attributes = attributes
        append(item)
        total += amount
    return tuple(items), total


def _item_error(i: int, raw: object, minor_units: int) -> NoReturn:
    """Raise the first error of line `i`, in the order: the line itself, price, sku,
    qty, category, shop, tags, attributes."""
    path = f"cart.items[{i}]"
    if type(raw) is not dict:
        raise ContextError(path, "must be an object")
    get = raw.get
    price = get("price", _MISSING)
    if price is _MISSING:
        raise ContextError(f"{path}.price", "is required")
    parse_money(price, minor_units, f"{path}.price")
    sku = get("sku", _MISSING)
    if type(sku) is not str:
        raise ContextError(f"{path}.sku", _required_string(sku))
    qty = get("qty", _MISSING)
    if type(qty) is not int or qty < 1:
        raise ContextError(f"{path}.qty", "must be an integer of at least 1")
    for field in ("category", "shop"):
        if type(get(field, "")) is not str:
            raise ContextError(f"{path}.{field}", "must be a string")
    tags = get("tags", [])
    if type(tags) is not list or any(type(tag) is not str for tag in tags):
        raise ContextError(f"{path}.tags", "must be a list of strings")
    if type(get("attributes", {})) is not dict:
        raise ContextError(f"{path}.attributes", "must be an object")
    raise AssertionError(f"{path} was refused but has no error")  # pragma: no cover


def _instant(text: str) -> int:
    """`dsl.localtime.parse_instant`, with a cache and a fast path for the usual form."""
    instant = _INSTANT_CACHE.get(text)
    if instant is None:
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            value = None
        if value is not None and value.tzinfo is not None:
            instant = (value - _EPOCH) // _SECOND
        else:
            instant = parse_instant(text)  # the other forms it accepts, or its ValueError
        if len(_INSTANT_CACHE) >= _CACHE_SIZE:
            _INSTANT_CACHE.clear()
        _INSTANT_CACHE[text] = instant
    return instant


def _referral(ctx: Context, referral: dict[str, Any]) -> None:
    for key, attribute in _REFERRAL_FIELDS:
        value = referral.get(key, "")
        if type(value) is not str:
            raise ContextError(f"referral.{key}", _STRING)
        setattr(ctx, attribute, value)


def _required_string(value: object) -> str:
    return "is required" if value is _MISSING else "must be a string"


def _object(value: object, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise ContextError(path, "must be an object")
    return value


def _string(value: object, path: str) -> str:
    if type(value) is not str:
        raise ContextError(path, "must be a string")
    return value


def _strings(value: object, path: str) -> tuple[str, ...]:
    if type(value) is not list:
        raise ContextError(path, "must be a list of strings")
    for element in value:
        if type(element) is not str:
            raise ContextError(path, "must be a list of strings")
    return tuple(value)
