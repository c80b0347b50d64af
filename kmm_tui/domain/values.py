"""A cheaper constructor for the frozen value types built on every decision.

A frozen dataclass's generated ``__init__`` stores each field through ``object.__setattr__`` (its own
``__setattr__`` refuses), looked up anew for every field: building a ``SideQuote`` cost 0.76 us, a
quarter of ``decide()``, and a decision pass builds a dozen such values. :func:`quick_init` gives a
frozen, slotted dataclass an ``__init__`` that stores each field through its slot's descriptor instead:
the same parameters and defaults, 40 % less time (``docs/benchmarks.md``, "Decisions per second").
Nothing else changes: assigning a field still raises ``FrozenInstanceError``, and equality, hashing,
``repr``, ``replace`` and pickling are the dataclass's own (``tests/domain/test_values.py``).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T", bound=type)


def quick_init(cls: T) -> T:
    """Replace the ``__init__`` of a frozen, slotted dataclass (apply above ``@dataclass``)."""
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not (params.frozen and "__slots__" in vars(cls)):
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not run __post_init__")
    namespace: dict[str, object] = {}
    signature: list[str] = []
    body: list[str] = []
    for item in dataclasses.fields(cls):
        if not item.init or item.kw_only or item.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{item.name}: quick_init needs plain fields")
        namespace[f"_set_{item.name}"] = vars(cls)[item.name].__set__
        if item.default is dataclasses.MISSING:
            signature.append(item.name)
        else:
            namespace[f"_default_{item.name}"] = item.default
            signature.append(f"{item.name}=_default_{item.name}")
        body.append(f"    _set_{item.name}(self, {item.name})")
    source = f"def __init__(self, {', '.join(signature)}):\n" + "\n".join(body) + "\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    init.__module__ = cls.__module__  # type: ignore[attr-defined]
    init.__annotations__ = dict(cls.__init__.__annotations__)  # type: ignore[misc]  # for type checkers
    cls.__init__ = init  # type: ignore[misc]
    return cls
