"""What the app needs from the engine, as a Protocol.

The app is typed against this surface (not the Engine class) so rendering can be exercised with a
hand-built ``EngineView``; the real engine satisfies it as is. Integration tests use the real engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from kmm_tui.domain.prices import Price
from kmm_tui.domain.theo import DevigMethod
from kmm_tui.engine.commands import Command
from kmm_tui.engine.events import Event
from kmm_tui.engine.model import MatchSpec
from kmm_tui.engine.state import EngineView


class PairLike(Protocol):
    event_ticker: str
    event_title: str
    team_a: str
    team_b: str
    team_t: str  # three-way only: the tie market's title ("" otherwise)
    start_ms: int | None
    start_source: str


class FeedTheoLike(Protocol):
    theo_a: Price
    theo_b: Price
    theo_t: Price | None  # a three-way match's draw
    priced_ms: int
    summary: str  # the books used, e.g. "pinnacle, draftkings"


class PreviewLike(Protocol):
    theo_a: Price | None
    theo_b: Price | None
    theo_t: Price | None  # three-way only
    decision: Any  # domain.quoting.Decision: .a/.b/.t SideQuote(price, size, reason, detail, ceiling)
    warnings: tuple[str, ...]  # shown before starting (e.g. theo far from the Kalshi mid)


class EnginePort(Protocol):
    environment: str

    def snapshot(self) -> EngineView: ...

    async def execute(self, command: Command) -> None: ...

    def listen(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...

    async def describe_pair(
        self, ticker_a: str, ticker_b: str, ticker_tie: str | None = None
    ) -> PairLike: ...

    def preview(self, spec: MatchSpec) -> PreviewLike: ...

    async def preview_live(self, spec: MatchSpec) -> PreviewLike: ...

    async def feed_theo(
        self, ticker_a: str, ticker_b: str, method: DevigMethod, ticker_tie: str | None = None
    ) -> FeedTheoLike: ...

    def confirm_pairing(self, choice: object, index: int) -> None: ...


class MatchStore(Protocol):
    """Where the user's matches persist (settings.toml in the app)."""

    def save(self, spec: MatchSpec) -> None: ...

    def remove(self, spec: MatchSpec) -> None: ...
