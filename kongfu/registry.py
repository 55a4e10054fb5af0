"""Which services exist and where their bootstrap lives."""

from __future__ import annotations

import importlib

from service_runtime.process import ServiceParts
from service_runtime.settings import Settings

# Every service of the lifecycle, in the order an order flows through them.
SERVICES = ("orders", "fraud", "purchasing", "warehouse", "logistics", "claims", "payments", "notifications")
DEFAULT_PORTS = {"orders": 8001, "purchasing": 8002, "warehouse": 8003, "logistics": 8004,
                 "claims": 8005, "fraud": 8006, "payments": 8007, "notifications": 8008}


def bootstrap(name: str, settings: Settings) -> ServiceParts:
    if name not in SERVICES:
        raise SystemExit(f"unknown service '{name}'; services: {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{name}.bootstrap")
    return module.bootstrap(settings)
