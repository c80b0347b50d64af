"""Theo from the odds feed: priced from sources while quoting, pulled when the prices go stale."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from kmm_tui.domain.prices import Price, contracts
from kmm_tui.domain.quoting import Reason
from kmm_tui.domain.theo import BookOdds, DevigMethod
from kmm_tui.engine import commands as cmd
from kmm_tui.engine.errors import EngineError, PairingNeeded
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput
from kmm_tui.engine.theo_feed import FeedFailure, FeedSettings, TheoFeed
from kmm_tui.odds.errors import MatchUnconfirmed
from kmm_tui.odds.matching import BookEvent, Matcher
from kmm_tui.odds.models import MatchRef, QuotaInfo, SourceResult
from kmm_tui.sim import SimServer

from .conftest import QUIET, Trading, connect, eventually


class Book:
    """An odds source whose prices the test sets (Pinnacle-like decimal odds with a time)."""

    name = "testbook"

    def __init__(self) -> None:
        self.odds = (Decimal("1.62"), Decimal("2.42"))
        self.age_ms = 0
        self.calls = 0

    async def fetch(self, match: MatchRef) -> SourceResult:
        self.calls += 1
        now = time.time_ns() // 1_000_000
        quote = BookOdds("pinnacle", self.odds, now - self.age_ms)
        return SourceResult(
            "testbook", (quote,), match.start_ms, ("pinnacle",), QuotaInfo(), Decimal(1), fetched_ms=now
        )


async def test_feed_priced_match_quotes_from_sportsbook_theo_and_pulls_when_stale() -> None:
    book = Book()
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        engine._feed = TheoFeed(
            [book], FeedSettings(max_age_ms=1_500, refresh_ms=100), clock=lambda: time.time_ns() // 1_000_000
        )
        t = Trading(sim, engine, feed)
        a, b = t.tickers("KXCS2GAME")
        try:
            t.compete(a, 40)
            spec = MatchSpec(
                "m1",
                a,
                b,
                TheoInput(from_feed=True, method=DevigMethod.POWER),
                # the line-move guard would pull on the 10c move below; this test is about staleness
                MatchSettings(edge=Price(200), contracts=contracts(5), line_move_theo=None),
            )
            await engine.execute(cmd.AddMatch(spec, start=True))
            await eventually(lambda: t.view().theo_a == 6035, what="power de-vig of 1.62/2.42 = 60.35c")
            await eventually(lambda: t.our_price(a) == 4100, what="quoting against the feed's theo")
            assert t.view().theo_source.startswith("feed: pinnacle (power)")
            assert engine.snapshot().odds_quota == (("testbook", None),)  # credits unknown for this book

            book.odds = (Decimal("1.40"), Decimal("3.10"))  # the line moves
            await eventually(
                lambda: t.view().theo_a is not None and t.view().theo_a > 6900, what="theo follows"
            )

            book.age_ms = 10_000  # the book stops updating: its prices age out of the window
            await eventually(lambda: t.resting() == [], within=8, what="quotes pulled on stale theo")
            assert t.view().quote_a.reason is Reason.THEO_STALE
            assert "theo is" in t.view().quote_a.detail

            book.age_ms = 0
            await eventually(lambda: len(t.resting()) == 2, within=8, what="quoting again on fresh prices")
        finally:
            await engine.close()
        assert t.resting() == []


async def test_fetch_odds_for_a_proposed_match_without_a_source_explains_what_to_configure() -> None:
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        t = Trading(sim, engine, feed)
        a, b = t.tickers("KXCS2GAME")
        try:
            with pytest.raises(EngineError, match=r"\[odds\]"):
                await engine.feed_theo(a, b, DevigMethod.POWER)
            engine._feed = TheoFeed([Book()], clock=lambda: time.time_ns() // 1_000_000)
            theo = await engine.feed_theo(a, b, DevigMethod.MULTIPLICATIVE)
            assert (theo.theo_a, theo.theo_b) == (5990, 4009)  # floored: never over 100c together
        finally:
            await engine.close()


class UnsureBook:
    """A source that finds a plausible event but cannot be sure it is this match (as the real ones do)."""

    name = "testbook"

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher

    async def fetch(self, match: MatchRef) -> SourceResult:
        now = time.time_ns() // 1_000_000
        event = BookEvent("testbook", "ev-1", "Vitality B", "FaZe Clan", match.start_ms or now)
        decision = self.matcher.decide(match.kalshi_event(), [event], match.sport)
        if not decision.matched:
            raise MatchUnconfirmed(self.name, decision.reason, decision)
        odds = (Decimal("1.62"), Decimal("2.42"))
        return SourceResult(
            "testbook",
            (BookOdds("pinnacle", odds, now),),
            None,
            ("pinnacle",),
            QuotaInfo(),
            Decimal(1),
            fetched_ms=now,
        )


async def test_an_unsure_pairing_is_offered_to_the_user_and_remembered_once_confirmed(tmp_path: Path) -> None:
    confirmed = tmp_path / "confirmed_matches.json"
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        engine._feed = TheoFeed(
            [UnsureBook(Matcher.load(confirmed))], clock=lambda: time.time_ns() // 1_000_000
        )
        a, b = Trading(sim, engine, feed).tickers("KXCS2GAME")
        try:
            with pytest.raises(PairingNeeded) as needed:
                await engine.feed_theo(a, b, DevigMethod.MULTIPLICATIVE)
            [choice] = needed.value.choices
            assert "Vitality B vs FaZe Clan" in choice.describe(0)
            engine.confirm_pairing(choice, 0)
            theo = await engine.feed_theo(a, b, DevigMethod.MULTIPLICATIVE)
            assert theo.theo_a == 5990
        finally:
            await engine.close()
    again = TheoFeed([UnsureBook(Matcher.load(confirmed))], clock=lambda: time.time_ns() // 1_000_000)
    ref = MatchRef(
        choice.decision.kalshi.event_ticker,
        "Vitality vs. FaZe Clan",
        "Vitality",
        a,
        "FaZe Clan",
        b,
        choice.decision.kalshi.start_ms,
    )
    assert not isinstance(await again.theo(ref, DevigMethod.MULTIPLICATIVE), FeedFailure), "remembered"


async def test_a_line_move_in_the_feed_pulls_at_once_then_requotes_on_the_new_theo() -> None:
    book = Book()
    async with SimServer(QUIET, agents=False) as sim:
        engine, feed = await connect(sim)
        engine._feed = TheoFeed(
            [book], FeedSettings(max_age_ms=60_000, refresh_ms=100), clock=lambda: time.time_ns() // 1_000_000
        )
        t = Trading(sim, engine, feed)
        a, b = t.tickers("KXCS2GAME")
        try:
            t.compete(a, 40)
            settings = MatchSettings(edge=Price(200), contracts=contracts(5), line_move_hold_ms=1_000)
            spec = MatchSpec("m1", a, b, TheoInput(from_feed=True, method=DevigMethod.POWER), settings)
            await engine.execute(cmd.AddMatch(spec, start=True))
            await eventually(lambda: t.our_price(a) == 4100, what="quoting against the feed's theo")

            book.odds = (Decimal("1.40"), Decimal("3.10"))  # 60.35c -> 69.94c: past the 3c threshold
            await eventually(lambda: t.resting() == [], within=1.0, what="pulled on the line move")
            quote = t.view().quote_a
            assert quote is not None and quote.reason is Reason.LINE_MOVE
            assert "theo A moved 60.35c → 69.94c" in quote.detail
            await eventually(lambda: t.our_price(a) == 4100, within=4, what="requoting on the new theo")
            assert t.view().theo_a is not None and t.view().theo_a > 6900
        finally:
            await engine.close()
        assert t.resting() == []
