"""The wire between the app and the engine's process (kmm_tui/engine_wire.py): pure, no I/O."""

from __future__ import annotations

import pickle

import pytest

from kmm_tui.engine.errors import EngineError, MarginAboveCap, PairingNeeded
from kmm_tui.engine_wire import (
    HEADER,
    WireError,
    body_length,
    exception_from_wire,
    exception_to_wire,
    frame,
    register_fast_pickling,
    unframe,
)

from .tui.views import demo_view


def test_a_snapshot_crosses_equal_to_itself_and_by_slot_values() -> None:
    register_fast_pickling()
    view = demo_view()
    data = pickle.dumps(view, pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(data) == view
    assert b"__getstate__" not in data and b"_rebuild" in data  # the fast reducer, not dataclasses' own


def test_a_frame_is_its_length_then_the_message() -> None:
    data = frame(("call", 7, "execute", ("x",)))
    assert body_length(data[: HEADER.size]) == len(data) - HEADER.size
    assert unframe(data[HEADER.size :]) == ("call", 7, "execute", ("x",))


def test_a_broken_stream_is_refused_not_trusted() -> None:
    with pytest.raises(WireError):
        body_length(HEADER.pack(1 << 31))
    with pytest.raises(WireError):
        unframe(pickle.dumps("not a message"))


@pytest.mark.parametrize(
    "error",
    [
        EngineError("edge must be positive", field="edge"),
        PairingNeeded("which event is it?", choices=("a", "b")),
        MarginAboveCap("margin 22% is above the cap"),
        ValueError("plain"),
    ],
)
def test_an_exception_crosses_as_its_own_type_with_its_attributes(error: Exception) -> None:
    back = exception_from_wire(pickle.loads(pickle.dumps(exception_to_wire(error))))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)


def test_an_exception_this_side_cannot_import_becomes_a_runtime_error_with_its_message() -> None:
    back = exception_from_wire(("kmm_tui.nowhere", "Gone", ("the message",), {}))
    assert isinstance(back, RuntimeError) and "Gone: the message" in str(back)


def test_an_attribute_that_cannot_cross_is_left_behind_but_the_message_crosses() -> None:
    error = EngineError("refused")
    error.handle = lambda: None  # type: ignore[attr-defined]
    back = exception_from_wire(exception_to_wire(error))
    assert isinstance(back, EngineError) and back.user_message == "refused" and not hasattr(back, "handle")
