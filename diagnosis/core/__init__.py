"""Rules every feature of the diagnosis app shares: who may do what (permissions, roles), the
card-data rules (cards), the audit trail, field validators, middleware, pagination, HTTP helpers."""
