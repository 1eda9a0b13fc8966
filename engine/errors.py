"""Request errors (LANGUAGE.md 10.7): the request itself is wrong; nothing was evaluated."""

from __future__ import annotations


class RequestError(Exception):
    """`code` is one of the request errors of LANGUAGE.md 13.1; `field` names the offending
    field of an `invalid_request` (`cart.items[0].price`)."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.field = field

    @classmethod
    def invalid(cls, field: str, detail: str) -> RequestError:
        return cls("invalid_request", f"{field}: {detail}", field)
