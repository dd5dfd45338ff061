"""Wizard models: the draft tree editors change and the published snapshots merchants use."""

__all__ = []
