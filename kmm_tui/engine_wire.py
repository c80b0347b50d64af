"""The wire between the app and the engine's own process (``engine_host`` / ``engine_process``).

Both ends are kmm itself, so a message is a pickled tuple behind a 4-byte length. Two costs matter
and are handled here:

* a snapshot of 50 matches is ~120 KB of frozen dataclasses; pickle's default for slotted
  dataclasses calls ``dataclasses.fields()`` per object (3.8 ms for one snapshot, measured).
  :func:`register_fast_pickling` gives the view types a reducer that stores their slot values
  and rebuilds them without ``__init__`` (~1 ms for the same snapshot);
* an exception must come back as the same type with its attributes (``EngineError.field``,
  ``PairingNeeded.choices``), but pickling calls ``cls(*args)``, which fails for exceptions whose
  constructor takes other arguments than ``args``: :func:`exception_to_wire` /
  :func:`exception_from_wire` rebuild them without calling the constructor.
"""

from __future__ import annotations

import dataclasses
import importlib
import pickle
import struct
from collections.abc import Iterable
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024  # a frame this long is a broken stream, not a message

VIEW_MODULES = (
    "kmm_tui.domain.book",
    "kmm_tui.domain.inventory",
    "kmm_tui.domain.markouts",
    "kmm_tui.domain.quoting",
    "kmm_tui.engine.events",
    "kmm_tui.engine.guards",
    "kmm_tui.engine.model",
    "kmm_tui.engine.state",
)


class WireError(RuntimeError):
    """The other end sent something that is not a frame (a broken or foreign stream)."""


def frame(message: tuple[Any, ...]) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def body_length(header: bytes) -> int:
    (length,) = HEADER.unpack(header)
    if length > MAX_FRAME:
        raise WireError(f"frame of {length} bytes")
    return int(length)


def unframe(body: bytes) -> tuple[Any, ...]:
    message = pickle.loads(body)
    if not isinstance(message, tuple) or not message:
        raise WireError("a frame that is not a message")
    return message


def _rebuild(cls: type, values: tuple[Any, ...]) -> Any:
    obj = object.__new__(cls)
    for name, value in zip(_SLOTS[cls], values, strict=True):
        object.__setattr__(obj, name, value)
    return obj


_SLOTS: dict[type, tuple[str, ...]] = {}


def _reducer(cls: type) -> Any:
    names = _SLOTS[cls]

    def reduce(obj: Any) -> tuple[Any, ...]:
        return _rebuild, (cls, tuple(getattr(obj, name) for name in names))

    return reduce


def register_fast_pickling(modules: Iterable[str] = VIEW_MODULES) -> None:
    """Pickle every slotted dataclass of ``modules`` by its slot values (idempotent)."""
    import copyreg

    for module_name in modules:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == module_name
                and dataclasses.is_dataclass(value)
                and "__slots__" in vars(value)
                and value not in _SLOTS
            ):
                _SLOTS[value] = tuple(f.name for f in dataclasses.fields(value))
                copyreg.pickle(value, _reducer(value))


def crossable(values: dict[str, Any]) -> dict[str, Any]:
    """The entries whose values pickle: hooks, handles and lambdas stay on this side."""
    kept: dict[str, Any] = {}
    for name, value in values.items():
        try:
            pickle.dumps(value)
        except Exception:
            continue
        kept[name] = value
    return kept


def exception_to_wire(error: BaseException) -> tuple[str, str, tuple[Any, ...], dict[str, Any]]:
    """(module, class name, args, attributes) of an exception; attributes that cannot be pickled are
    dropped (the message, in ``args``, always crosses)."""
    args: tuple[Any, ...] = error.args
    try:
        pickle.dumps(args)
    except Exception:
        args = (str(error),)
    return type(error).__module__, type(error).__qualname__, args, crossable(vars(error))


def exception_from_wire(wire: tuple[str, str, tuple[Any, ...], dict[str, Any]]) -> BaseException:
    """The exception as raised on the other side; a type this side cannot import becomes RuntimeError."""
    module_name, qualname, args, attributes = wire
    try:
        cls: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError(qualname)
    except Exception:
        return RuntimeError(f"{qualname}: {args[0] if args else ''}")
    error: BaseException = cls.__new__(cls)
    error.args = args
    for name, value in attributes.items():
        try:
            setattr(error, name, value)
        except AttributeError:
            continue
    return error
