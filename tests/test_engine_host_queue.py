"""What the engine's process queues for the app between two views (kmm_tui/engine_host.py): pure."""

from __future__ import annotations

from kmm_tui.domain.book import Book
from kmm_tui.engine.events import BookUpdated, Level, LogEvent
from kmm_tui.engine_host import EVENTS_WAITING, Host


def test_book_updates_collapse_to_the_newest_and_other_events_keep_their_order() -> None:
    host = Host(writer=None)  # type: ignore[arg-type]  # queueing needs no connection
    for i in range(3):
        host.on_event(BookUpdated("T", Book(), i))
        host.on_event(LogEvent(Level.INFO, f"n{i}", i))
    taken = host.take_events()
    assert [e.text for e in taken if isinstance(e, LogEvent)] == ["n0", "n1", "n2"]
    assert [e.ts_ms for e in taken if isinstance(e, BookUpdated)] == [2]
    assert host.take_events() == []


def test_an_app_that_stops_reading_cannot_grow_the_queue_without_bound() -> None:
    host = Host(writer=None)  # type: ignore[arg-type]
    for i in range(EVENTS_WAITING * 3):
        host.on_event(LogEvent(Level.INFO, f"n{i}", i))
    taken = host.take_events()
    assert len(taken) == EVENTS_WAITING
    assert taken[-1].text == f"n{EVENTS_WAITING * 3 - 1}"  # the newest are the ones kept
