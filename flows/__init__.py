"""Prefect flows: one per cadence, composing the thin task wrappers of flows.steps."""
