"""The purchasing service."""
