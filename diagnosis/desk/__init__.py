"""The agents' desk: the ticket queue with filters and bulk actions, and the agent's ticket page."""
