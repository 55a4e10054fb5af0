"""The customer's personal data: their profile (encrypted), their data export, their erasure."""

from __future__ import annotations

from service_runtime.pii import PersonalData
from service_runtime.store import ServiceApplication
from services.orders.profiles import PERSONAL_FIELDS, CustomerProfile, profile_key

# What erasure keeps, and why: the law requires financial records (amounts, dates) to be kept.
KEPT_AFTER_ERASURE = ["orders, payments and refunds with their amounts and dates (financial records)",
                      "the pseudonymous account id those records are filed under"]


class Privacy(ServiceApplication):
    personal_data: PersonalData  # set by the bootstrap: the key store in this service's database

    def profile_of(self, customer_id: str) -> CustomerProfile | None:
        return self.find(profile_key(customer_id), CustomerProfile)

    def update_profile(self, customer_id: str, fields: dict[str, str | None]) -> CustomerProfile:
        sealed = self.personal_data.encrypt_fields(customer_id, {n: fields.get(n) for n in PERSONAL_FIELDS})

        def attempt() -> tuple[list[CustomerProfile], CustomerProfile]:
            profile = self.profile_of(customer_id) or CustomerProfile(customer_id=customer_id)
            profile.update(sealed)
            return [profile], profile

        return self.save_with_retry(attempt)

    def readable(self, customer_id: str, sealed: dict[str, str | None]) -> dict[str, str | None]:
        return self.personal_data.decrypt_fields(customer_id, sealed)

    def erase(self, customer_id: str) -> CustomerProfile:
        """Crypto-shredding: destroy the key first (the erasure itself), then record that it happened."""
        self.personal_data.erase(customer_id)

        def attempt() -> tuple[list[CustomerProfile], CustomerProfile]:
            profile = self.profile_of(customer_id) or CustomerProfile(customer_id=customer_id)
            profile.erase(customer_id=customer_id)
            return [profile], profile

        return self.save_with_retry(attempt)
