"""benchsdk: an Arthur-bench-style client auth surface on authwire (see ``benchsdk.auth``)."""

from __future__ import annotations

__all__: list[str] = []
