"""Plumbing every KongfuMall service runs on.

Stores, the outbox relay, the consumer runner, projections, settings, metrics, logs and the
HTTP app factory live here, so the six services hold only their own rules and wiring.
"""
