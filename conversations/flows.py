"""The registry of flows, explicit and ordered: one line per flow module."""

from conversations import language

FLOWS = [
    language.FLOW,
]
