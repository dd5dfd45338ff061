"""Escalation batches: tickets sent to the acquiring bank together, with CSV/XLSX/print exports."""
