"""What a request reaches: the `Service` of this worker (built once by the lifespan), and
the operator-key dependency of the operator routes. The storefront's lean routes read
the same service and check their key themselves (api/routes/storefront.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.auth import Keys, authorization
from api.settings import Settings
from api.versions import Versions
from engine.engine import Engine
from engine.store import CounterStore


@dataclass
class Service:
    engine: Engine
    store: CounterStore  # measured (api/metrics.py)
    keys: Keys
    versions: Versions
    settings: Settings


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def require_operator(request: Request) -> Service:
    svc = service(request)
    svc.keys.check(authorization(request.scope["headers"]), "operator")
    return svc


Operator = Annotated[Service, Depends(require_operator)]
