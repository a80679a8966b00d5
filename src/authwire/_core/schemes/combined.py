"""``a + b``: several schemes on one request.

Strictly private. Every part applies its credentials to the same request, in order. Each
response is offered to every part still running; if any part answers (a 401 it can
handle), the request is sent again once with every part's current credentials. A part
that has finished keeps its credentials on the replays.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from authwire._core.flow import Attempt, Operation, SchemeFlow, Verdict
from authwire._core.schemes.base import AuthScheme, RequestInfo, merge_attempts

__all__ = ["CombinedAuth"]


def _advance(
    flow: SchemeFlow, value: Any, start: bool
) -> Generator[Operation, Any, Attempt | Verdict | None]:
    """Run ``flow`` until its next ``Attempt`` (returned) or its end (its ``Verdict`` or ``None``).

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
    except StopIteration as stop:
        return stop.value if isinstance(stop.value, Verdict) else None


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
            started = isinstance(attempt, Attempt)
            current.append(attempt if isinstance(attempt, Attempt) else Attempt())
            running.append(started)
        merged = first if first is not None else merge_attempts(current, state=tuple(current))
        response = yield merged
        verdict: Verdict | None = None
        while True:
            replay = False
            for i, flow in enumerate(flows):
                if not running[i]:
                    continue
                attempt = yield from _advance(flow, response, start=False)
                if isinstance(attempt, Attempt):
                    current[i] = attempt
                    replay = True
                else:
                    running[i] = False
                    verdict = verdict or attempt  # a part's STRIP holds for the whole
            if not replay:
                return verdict
            response = yield merge_attempts(current, state=tuple(current))
