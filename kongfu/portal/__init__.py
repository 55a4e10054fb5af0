"""The customer portal: server-rendered pages composed from the gateways' read APIs (a BFF)."""
