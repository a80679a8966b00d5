"""``Value``: frozen value classes without the import cost of ``dataclasses``.

Strictly private. The wire model and the flow operations are on the import path of
``authwire.requests`` and ``authwire.httpx``; as frozen dataclasses they cost the import
of ``dataclasses`` (which imports ``inspect``, ``dis`` and ``ast``) plus code generation
for each class, most of authwire's import time. A ``Value`` subclass writes its
``__init__`` by hand and lists its fields; this base gives it what ``dataclass(frozen=True,
slots=True)`` would: attributes that cannot be set or deleted (``FrozenInstanceError``,
an ``AttributeError``), ``__eq__``/``__hash__`` over the compared fields, a ``__repr__``
of the shown fields, pickling and ``copy``, and ``replace()`` in place of
``dataclasses.replace``. ``dataclass_transform`` tells type checkers the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # typing has it from Python 3.11 only; it has no effect at runtime anyway

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


__all__ = ["Value"]

V = TypeVar("V", bound="Value")


def _frozen(name: str) -> NoReturn:
    # Only on misuse: the stdlib error type, so callers may catch either.
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot assign to field {name!r}")


@dataclass_transform(frozen_default=True)
class Value:
    """Base of authwire's frozen value classes. Strictly private.

    Subclasses list their fields in ``__init__`` order as ``_fields`` and set
    ``__slots__ = _fields``, assign them in ``__init__`` with ``object.__setattr__``, and
    may narrow ``_compared`` (fields in ``==`` and ``hash``) and ``_shown`` (fields in the
    ``repr``); both default to all.
    """

    __slots__ = ()

    _fields: ClassVar[tuple[str, ...]] = ()
    _compared: ClassVar[tuple[str, ...]]
    _shown: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields = cls._fields
        if "_compared" not in cls.__dict__:
            cls._compared = fields
        if "_shown" not in cls.__dict__:
            cls._shown = fields

    def __setattr__(self, name: str, value: object) -> NoReturn:
        _frozen(name)

    def __delattr__(self, name: str) -> NoReturn:
        _frozen(name)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            fields = self._compared
            return tuple(getattr(self, f) for f in fields) == tuple(
                getattr(other, f) for f in fields
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f) for f in self._compared))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._shown)
        return f"{self.__class__.__qualname__}({shown})"

    def _values(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self._fields}

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, self._values()))

    def replace(self: V, **changes: Any) -> V:
        """A copy with ``changes`` applied, like ``dataclasses.replace``.

        Raises:
            TypeError: If a name in ``changes`` is not a field.
        """
        return self.__class__(**{**self._values(), **changes})


def _rebuild(cls: type[V], values: dict[str, Any]) -> V:
    return cls(**values)
