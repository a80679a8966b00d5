"""The wire model: ``Headers`` multimap, ``HttpRequest``/``HttpResponse`` values, form bodies."""

from __future__ import annotations

import dataclasses

import pytest

from authwire._core.http import Headers, HttpRequest, HttpResponse, form_body


def test_headers_are_case_insensitive_and_join_repeats() -> None:
    """Lookups ignore case; repeated fields join with ', ' and stay separate in get_all."""
    h = Headers([("WWW-Authenticate", "Basic"), ("www-authenticate", 'Digest realm="x"')])
    assert h["Www-Authenticate"] == 'Basic, Digest realm="x"'
    assert h.get_all("WWW-AUTHENTICATE") == ["Basic", 'Digest realm="x"']
    assert "www-authenticate" in h
    assert object() not in h
    assert len(h) == 1
    assert list(h) == ["www-authenticate"]
    assert h.get_all("missing") == []
    assert h.get("missing", "d") == "d"


def test_headers_keep_raw_items_and_compare_case_insensitively() -> None:
    """items_raw keeps original case and order; equality ignores name case."""
    h = Headers({"Content-Type": "a", "X-One": "1"})
    assert h.items_raw() == (("Content-Type", "a"), ("X-One", "1"))
    assert h == Headers([("content-type", "a"), ("x-one", "1")])
    assert h != Headers({"Content-Type": "b", "X-One": "1"})


def test_headers_repr_masks_sensitive_values() -> None:
    """The repr of headers never shows Authorization, cookies or API keys."""
    text = repr(Headers({"Authorization": "Bearer tok-999888", "Cookie": "s=c-777", "Accept": "x"}))
    assert "tok-999888" not in text
    assert "c-777" not in text
    assert "'Accept': 'x'" in text


def test_headers_are_immutable_and_unhashable() -> None:
    """Headers cannot be changed in place, and are not hashable (they compare by content)."""
    h = Headers({"A": "1"})
    with pytest.raises(TypeError):
        h["A"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(h)


def test_requests_and_responses_are_frozen_with_hidden_bodies() -> None:
    """HttpRequest and HttpResponse are frozen; bodies and secrets stay out of their reprs."""
    req = HttpRequest(
        "POST", "https://a.example/t", body=b"client_secret=cs-1234", secrets=("cs-1234",)
    )
    resp = HttpResponse(200, body=b'{"access_token": "at-5678"}')
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.url = "https://b.example/"  # type: ignore[misc]
    assert "cs-1234" not in repr(req)
    assert "at-5678" not in repr(resp)
    assert resp.json() == {"access_token": "at-5678"}
    assert req == HttpRequest("POST", "https://a.example/t", body=b"client_secret=cs-1234")


def test_form_body_encodes_per_rfc_6749_appendix_b() -> None:
    """Form bodies are application/x-www-form-urlencoded (space as +, reserved escaped)."""
    assert form_body({"a": "x y", "b": "&=+/"}) == b"a=x+y&b=%26%3D%2B%2F"
    assert form_body([("r", "1"), ("r", "2")]) == b"r=1&r=2"
