"""Decline insight: dashboard aggregates, incident detection, terminal health, SVG charts."""
