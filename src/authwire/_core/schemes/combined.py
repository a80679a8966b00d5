"""``a + b``: several schemes on one request.

Strictly private. Every part applies its credentials to the same request, in order. Each
response is offered to every part still running; if any part answers (a 401 it can
handle), the request is sent again once with every part's current credentials. A part
that has finished keeps its credentials on the replays.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from authwire._core.flow import Attempt, Operation, SchemeFlow
from authwire._core.schemes.base import AuthScheme, RequestInfo, merge_attempts

__all__ = ["CombinedAuth"]


def _advance(
    flow: SchemeFlow, value: Any, start: bool
) -> Generator[Operation, Any, Attempt | None]:
    """Run ``flow`` until its next ``Attempt`` (returned) or its end (``None``).

    Side operations are passed up to the driver, and their results or errors passed down.
    """
    try:
        op = next(flow) if start else flow.send(value)
        while not isinstance(op, Attempt):
            try:
                result = yield op
            except Exception as exc:
                op = flow.throw(exc)
            else:
                op = flow.send(result)
        return op
    except StopIteration:
        return None


class CombinedAuth(AuthScheme):
    """Several schemes applied together; made by ``a + b``.

    Args:
        parts: The schemes, applied in order. Nested combinations are flattened.
    """

    def __init__(self, *parts: AuthScheme) -> None:
        flat: list[AuthScheme] = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, CombinedAuth) else (part,))
        self.parts: tuple[AuthScheme, ...] = tuple(flat)
        self.header_names = frozenset().union(*(p.header_names for p in flat))
        self.param_names = frozenset().union(*(p.param_names for p in flat))
        self.requires_secure = any(p.requires_secure for p in flat)

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.parts)

    def fast_attempt(self, now: float) -> Attempt | None:
        """Every part's fast attempt merged, if every part has one."""
        attempts = []
        for part in self.parts:
            attempt = part.fast_attempt(now)
            if attempt is None:
                return None
            attempts.append(attempt)
        return merge_attempts(attempts, state=tuple(attempts))

    def auth_flow(self, request: RequestInfo, first: Attempt | None = None) -> SchemeFlow:
        """Run every part's flow side by side over one request."""
        firsts: tuple[Attempt | None, ...] = (
            first.state if first is not None else (None,) * len(self.parts)
        )
        flows = [part.auth_flow(request, f) for part, f in zip(self.parts, firsts, strict=True)]
        current: list[Attempt] = []
        running: list[bool] = []
        for flow in flows:
            attempt = yield from _advance(flow, None, start=True)
            current.append(attempt if attempt is not None else Attempt())
            running.append(attempt is not None)
        merged = first if first is not None else merge_attempts(current, state=tuple(current))
        response = yield merged
        while True:
            replay = False
            for i, flow in enumerate(flows):
                if not running[i]:
                    continue
                attempt = yield from _advance(flow, response, start=False)
                if attempt is None:
                    running[i] = False
                else:
                    current[i] = attempt
                    replay = True
            if not replay:
                return
            response = yield merge_attempts(current, state=tuple(current))
