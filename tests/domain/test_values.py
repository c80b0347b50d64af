"""``quick_init`` replaces a frozen dataclass's constructor with a cheaper one: the class must behave
exactly as the dataclass it was — same parameters and defaults, same values stored, still frozen,
equal, hashable, replaceable and picklable — and refuse classes it cannot build that way."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from typing import Any

import pytest

from kmm_tui.domain.book import Book
from kmm_tui.domain.inventory import Side
from kmm_tui.domain.prices import Count, Price, TickGrid
from kmm_tui.domain.quoting import Decision, QuoteMemo, Reason, SideInput, SideMemo, SideQuote
from kmm_tui.domain.values import quick_init

QUOTE = SideQuote(Price(5100), Count(500), Reason.QUOTING, "bidding 51c", Price(5800))
SAMPLES: list[tuple[type, tuple[Any, ...]]] = [
    (Book, (((Price(5000), Count(100)),), ((Price(5200), Count(300)),))),
    (SideInput, (Price(6000), Book(), Price(5100), Count(500), TickGrid.linear_cent(), False)),
    (SideQuote, (Price(5100), Count(500), Reason.QUOTING, "bidding 51c", Price(5800))),
    (SideMemo, (Price(5800), 12_000)),
    (QuoteMemo, (SideMemo(Price(5800), 1), SideMemo(), SideMemo(Price(2000), 2))),
    (Decision, (QUOTE, QUOTE, QuoteMemo(), QUOTE)),
]


def twin(cls: type) -> type:
    """The same fields as a plain frozen dataclass (the constructor ``dataclass`` generates)."""
    return dataclasses.make_dataclass(
        cls.__name__,
        [(f.name, f.type, dataclasses.field(default=f.default)) for f in dataclasses.fields(cls)],
        frozen=True,
        slots=True,
    )


def values(obj: object) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))  # type: ignore[arg-type]


@pytest.mark.parametrize(("cls", "args"), SAMPLES, ids=[c.__name__ for c, _ in SAMPLES])
def test_the_constructor_takes_and_stores_what_the_dataclass_one_did(
    cls: type, args: tuple[Any, ...]
) -> None:
    plain = twin(cls)
    assert str(inspect.signature(cls)) == str(inspect.signature(plain))
    names = [f.name for f in dataclasses.fields(cls)]
    assert values(cls(*args)) == values(plain(*args)) == args
    assert values(cls(**dict(zip(names, args, strict=True)))) == args
    required = [f for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING]
    assert values(cls(*args[: len(required)])) == values(plain(*args[: len(required)]))


@pytest.mark.parametrize(("cls", "args"), SAMPLES, ids=[c.__name__ for c, _ in SAMPLES])
def test_the_values_stay_frozen_equal_hashable_and_picklable(cls: type, args: tuple[Any, ...]) -> None:
    obj = cls(*args)
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(obj, first, None)
    assert obj == cls(*args) and hash(obj) == hash(cls(*args))
    assert pickle.loads(pickle.dumps(obj)) == obj
    changed = dataclasses.replace(obj, **{first: args[1] if len(args) > 1 else None})
    assert getattr(changed, first) == (args[1] if len(args) > 1 else None)
    assert repr(obj).startswith(f"{cls.__name__}(")


def test_a_decision_built_quickly_answers_as_before() -> None:
    decision = Decision(QUOTE, QUOTE, QuoteMemo())
    assert decision.t is None and decision.quotes == ((Side.A, QUOTE), (Side.B, QUOTE))


def test_classes_it_cannot_build_are_refused() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        a: int

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived:
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = dataclasses.field(default_factory=list)

    for cls in (Mutable, NoSlots, Derived, Factory):
        with pytest.raises(TypeError):
            quick_init(cls)
