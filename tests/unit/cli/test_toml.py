"""The profiles file writer: what it writes, tomllib reads back unchanged."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authwire.cli._toml import dumps

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

keys = st.text(min_size=0, max_size=12)
scalars = (
    st.text(max_size=30)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.floats(allow_nan=False)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
documents = st.dictionaries(
    keys, values | st.dictionaries(keys, st.dictionaries(keys, values, max_size=4), max_size=3)
)


@given(documents)
def test_round_trip(data: dict[str, Any]) -> None:
    """Any document of strings, numbers, booleans, lists and tables reads back equal."""
    assert tomllib.loads(dumps(data)) == data


def test_profiles_layout() -> None:
    """Top-level keys first, then one [profiles.<name>] table per profile."""
    text = dumps(
        {
            "default_profile": "a b",
            "profiles": {"a b": {"client_id": "x", "scopes": ["r", "w"]}, "c": {}},
        }
    )
    assert text == (
        'default_profile = "a b"\n'
        "\n"
        '[profiles."a b"]\n'
        'client_id = "x"\n'
        'scopes = ["r", "w"]\n'
        "\n"
        "[profiles.c]\n"
    )


def test_unwritable_values_raise_type_error() -> None:
    """None and objects have no TOML form."""
    with pytest.raises(TypeError):
        dumps({"a": None})
    with pytest.raises(TypeError):
        dumps({"a": object()})
