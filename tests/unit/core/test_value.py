"""``Value``: the hand-written frozen classes behave as the frozen dataclasses they replace.

Each class is compared with a reference built by ``dataclasses.make_dataclass`` from the
field options it had as a dataclass (which fields are shown, which are compared).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from authwire._core.flow import Attempt, Call, Sleep
from authwire._core.http import Headers, HttpRequest, HttpResponse
from authwire._core.origin import Origin
from authwire._core.schemes.base import RequestInfo

# (class, fields as (name, shown in repr, compared), two instances that differ only in
# fields that are not compared, an instance that differs in a compared field)
_HEADERS = Headers({"Accept": "application/json"})
CASES: list[tuple[type[Any], list[tuple[str, bool, bool]], Any, Any, Any]] = [
    (
        HttpRequest,
        [
            ("method", True, True),
            ("url", True, True),
            ("headers", True, True),
            ("body", False, True),
            ("secrets", False, False),
        ],
        HttpRequest("POST", "https://a.example/t", _HEADERS, b"x=1", ("s-1",)),
        HttpRequest("POST", "https://a.example/t", _HEADERS, b"x=1", ("s-2",)),
        HttpRequest("POST", "https://a.example/t", _HEADERS, b"x=2", ("s-1",)),
    ),
    (
        HttpResponse,
        [
            ("status", True, True),
            ("headers", True, True),
            ("body", False, True),
            ("url", True, True),
            ("peer_certificate", False, False),
        ],
        HttpResponse(401, _HEADERS, b"{}", "https://a.example/", b"cert-1"),
        HttpResponse(401, _HEADERS, b"{}", "https://a.example/", None),
        HttpResponse(401, _HEADERS, b"{}", "https://b.example/", b"cert-1"),
    ),
    (
        Attempt,
        [
            ("headers", True, True),
            ("params", True, True),
            ("cookies", True, True),
            ("state", False, False),
        ],
        # Plain dicts: the default empty mappings are read-only proxies, which no
        # pickle can carry (nor could it when Attempt was a dataclass).
        Attempt({"Authorization": "Bearer a"}, {}, {"c": "1"}, state="token-1"),
        Attempt({"Authorization": "Bearer a"}, {}, {"c": "1"}, state="token-2"),
        Attempt({"Authorization": "Bearer b"}, {}, {"c": "1"}, state="token-1"),
    ),
    (
        Origin,
        [("scheme", True, True), ("host", True, True), ("port", True, True)],
        Origin("https", "a.example", 443),
        Origin("https", "a.example", 443),
        Origin("https", "a.example", 8443),
    ),
    (
        RequestInfo,
        [("method", True, True), ("url", True, True), ("can_replay", True, True)],
        RequestInfo("GET", "https://a.example/", True),
        RequestInfo("GET", "https://a.example/", True),
        RequestInfo("GET", "https://a.example/", False),
    ),
    (
        Sleep,
        [("seconds", True, True)],
        Sleep(1.5),
        Sleep(1.5),
        Sleep(2.0),
    ),
    (
        Call,
        [("fn", True, True), ("afn", True, True), ("args", True, True), ("inline", True, True)],
        Call(len, None, ("abc",), True),
        Call(len, None, ("abc",), True),
        Call(len, None, ("abcd",), True),
    ),
]
IDS = [case[0].__name__ for case in CASES]


def _reference(cls: type[Any], spec: list[tuple[str, bool, bool]]) -> type[Any]:
    fields = [(name, Any, dataclasses.field(repr=shown, compare=cmp)) for name, shown, cmp in spec]
    return dataclasses.make_dataclass(cls.__qualname__, fields, frozen=True)


def _as_reference(ref: type[Any], value: Any) -> Any:
    return ref(**{f.name: getattr(value, f.name) for f in dataclasses.fields(ref)})


@pytest.mark.parametrize(("cls", "spec", "one", "same", "other"), CASES, ids=IDS)
def test_equality_hash_and_repr_match_the_dataclass(
    cls: type[Any], spec: list[tuple[str, bool, bool]], one: Any, same: Any, other: Any
) -> None:
    """``==``, ``hash`` and ``repr`` give what the equivalent frozen dataclass gives."""
    ref = _reference(cls, spec)
    ref_one, ref_same, ref_other = (_as_reference(ref, v) for v in (one, same, other))
    assert (one == same) is (ref_one == ref_same) is True
    assert (one == other) is (ref_one == ref_other) is False
    assert one != "not a value"
    if cls is not Attempt:  # Attempt has its own repr: header names only
        assert repr(one) == repr(ref_one)
    try:
        expected_hash: int | None = hash(ref_one)
    except TypeError:  # a Headers or mapping field: unhashable, as for the dataclass
        expected_hash = None
    if expected_hash is None:
        with pytest.raises(TypeError):
            hash(one)
    else:
        assert hash(one) == expected_hash == hash(same)


@pytest.mark.parametrize(("cls", "spec", "one", "same", "other"), CASES, ids=IDS)
def test_fields_cannot_be_set_or_deleted(
    cls: type[Any], spec: list[tuple[str, bool, bool]], one: Any, same: Any, other: Any
) -> None:
    """Setting or deleting any attribute raises ``dataclasses.FrozenInstanceError``."""
    name = spec[0][0]
    before = getattr(one, name)
    with pytest.raises(dataclasses.FrozenInstanceError, match=name):
        setattr(one, name, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(one, name)
    with pytest.raises(AttributeError):
        one.not_a_field = 1
    assert getattr(one, name) is before
    assert not hasattr(one, "__dict__")


@pytest.mark.parametrize(("cls", "spec", "one", "same", "other"), CASES, ids=IDS)
def test_pickle_copy_and_replace_keep_every_field(
    cls: type[Any], spec: list[tuple[str, bool, bool]], one: Any, same: Any, other: Any
) -> None:
    """Pickling, ``copy`` and ``replace()`` keep every field, compared or not."""
    names = [name for name, _, _ in spec]
    unpickled = pickle.loads(pickle.dumps(one))  # noqa: S301 (our own bytes)
    for clone in (unpickled, copy.copy(one), copy.deepcopy(one)):
        assert type(clone) is cls
        assert [getattr(clone, n) for n in names] == [getattr(one, n) for n in names]
    replaced = one.replace(**{names[0]: getattr(other, names[0])})
    assert [getattr(replaced, n) for n in names[1:]] == [getattr(one, n) for n in names[1:]]
    assert getattr(replaced, names[0]) == getattr(other, names[0])
    with pytest.raises(TypeError):
        one.replace(no_such_field=1)


def test_defaults_are_those_of_the_dataclasses() -> None:
    """Omitted fields take the dataclasses' defaults (fresh empty Headers, no body...)."""
    request = HttpRequest("GET", "https://a.example/")
    assert (request.headers, request.body, request.secrets) == (Headers(), None, ())
    response = HttpResponse(204)
    assert (response.headers, response.body, response.url, response.peer_certificate) == (
        Headers(),
        b"",
        "",
        None,
    )
    assert Attempt().is_empty
    call = Call(len)
    assert (call.afn, call.args, call.inline) == (None, (), False)
    assert RequestInfo("GET", "https://a.example/").can_replay
