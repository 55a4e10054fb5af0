"""Composition root and operator commands: the one place that knows every service."""
