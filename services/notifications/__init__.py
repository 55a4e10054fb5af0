"""Notifications: tells customers, in their language, what needs them or what happened."""
