"""Declined transactions recorded as tickets: the merchant's pages and API, the ticket services
(create, reply, status, assignment), the status workflow, SLA, attachments, notifications and
API tokens."""
