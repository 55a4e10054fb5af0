"""Process settings, read from KONGFU_* environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KONGFU_", extra="ignore")

    # embedded: SQLite stores and an in-process event log (make run).
    # stack: PostgreSQL stores and the Kafka broker (make up, the integration tests).
    mode: Literal["embedded", "stack"] = "embedded"
    var_dir: Path = Path("var")
    # Prefixes topics, consumer groups and database schemas, so that several environments (or
    # test runs) share one broker and one database without seeing each other.
    namespace: str = Field(default="", pattern=r"^[a-z0-9_]{0,20}$")
    pg_dsn: str = "postgresql://kongfu:kongfu@127.0.0.1:15432/kongfu"
    kafka_bootstrap: str = "127.0.0.1:19092"
    topic_partitions: int = Field(default=3, ge=1)
    # The cluster's broker wants SASL over TLS (Strimzi KafkaUser with SCRAM); locally PLAINTEXT.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ca_file: str = ""  # the cluster CA that signed the broker's certificate
    # HS256 secret for bearer tokens; when unset, a local development secret is kept in var/.
    jwt_secret: str = ""
    jwt_issuer: str = "kongfumall"
    # HMAC secret carriers sign their tracking webhooks with; when unset, a local one in var/.
    carrier_webhook_secret: str = ""
    # Stripe: the API (or the Stripe fake's URL), a test or live key, and the webhook signing secret.
    stripe_api_base: str = "https://api.stripe.com"
    stripe_api_key: str = "sk_test_kongfu_local"
    stripe_webhook_secret: str = ""
    payment_provider_timeout_seconds: float = Field(default=5.0, gt=0)
    # PayPal: the REST API (or the PayPal fake's URL), the app's client credentials, and the id of
    # the webhook subscription PayPal signs its events for. Without a client id, no PayPal.
    paypal_api_base: str = "https://api-m.paypal.com"
    paypal_client_id: str = ""
    paypal_client_secret: str = ""
    paypal_webhook_id: str = ""
    # Fraud velocity thresholds (services/fraud/velocity_rules.py; the version names them on every verdict).
    fraud_velocity_max_payments: int = Field(default=20, ge=1)  # per customer within an hour
    fraud_velocity_max_amount: str = Field(default="200000.00", pattern=r"^[0-9]+(\.[0-9]{1,2})?$")  # CNY per hour
    fraud_velocity_max_customers_per_card: int = Field(default=3, ge=1)  # customers on one card per hour
    fraud_velocity_first_order_limit: str = Field(default="20000.00", pattern=r"^[0-9]+(\.[0-9]{1,2})?$")  # CNY
    fraud_velocity_version: str = Field(default="default", pattern=r"^[A-Za-z0-9._-]{1,40}$")  # names the set
    relay_batch_size: int = Field(default=500, ge=1)
    # A replay's catch-ups before it holds the live projector's writes for the last one (0: at once).
    replay_optimistic_catch_ups: int = Field(default=5, ge=0)
    # Fault drills (`make chaos` and its test): the relay exits like a SIGKILL right after it has
    # published a batch, before it records its position, so the next relay publishes it again.
    chaos_relay_exit_after_publish: bool = False
    poll_interval_seconds: float = Field(default=0.05, gt=0)
    log_level: str = "INFO"
    # Tests and demos only: a file holding seconds to add to the system time (simulated days
    # for deadlines, shared by every process that reads it). Unset in production.
    clock_offset_file: str = ""
    # Notifications: the SMTP relay mail goes through, and the secret chat webhooks are signed with.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "KongfuMall <notifications@kongfumall.example>"
    notification_webhook_secret: str = ""

    def resolved_notification_secret(self) -> str:
        return self.notification_webhook_secret or self._local_secret("dev-notification-secret")

    def kafka_security(self) -> dict[str, Any]:
        """Options every aiokafka client of this process gets."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        from aiokafka.helpers import create_ssl_context

        return {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": self.kafka_sasl_username, "sasl_plain_password": self.kafka_sasl_password,
                "ssl_context": create_ssl_context(cafile=self.kafka_ca_file or None)}

    def resolved_jwt_secret(self) -> str:
        return self.jwt_secret or self._local_secret("dev-jwt-secret")

    def resolved_carrier_secret(self) -> str:
        return self.carrier_webhook_secret or self._local_secret("dev-carrier-secret")

    def resolved_stripe_webhook_secret(self) -> str:
        return self.stripe_webhook_secret or self._local_secret("dev-stripe-webhook-secret")

    def _local_secret(self, name: str) -> str:
        path = self.var_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            candidate = secrets.token_urlsafe(48)
            try:
                with open(path, "x") as handle:  # first process to get here wins
                    handle.write(candidate)
                path.chmod(0o600)
            except FileExistsError:
                pass
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
