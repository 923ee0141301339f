"""Every page of the console, registered on its blueprint by importing its module."""

from console import home, outbox, simulator, teams  # noqa: F401
