"""Signing in and out, passwords, login throttling, the admin pages of users/merchants/terminals,
and the demo accounts."""
