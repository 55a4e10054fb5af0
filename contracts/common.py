"""Value types shared by several contracts."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

Category = Literal["general", "electronics", "precision_instrument", "luxury", "fragile"]
HIGH_RISK_CATEGORIES = ("electronics", "precision_instrument", "luxury", "fragile")


class ParcelItemV1(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    traceability_code: str
    order_id: UUID
    line_no: int
    sku: str
    quantity: int
    category: Category
    value: Decimal  # CNY paid to the merchant for this item (all units)


class DeclaredItemV1(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    traceability_code: str
    hs_code: str
    description: str
    declared_value: Decimal
    currency: str
