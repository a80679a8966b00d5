"""Token managers: one credential's token lifecycle, shared by threads and tasks."""

from authwire.manager._manager import TokenManager

__all__ = ["TokenManager"]
