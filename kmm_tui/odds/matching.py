"""Sportsbook event ↔ Kalshi event matching: names, aliases, dates, and a refusal to guess.

A wrong mapping prices the wrong team, so the rules are strict and every uncertain case goes back to
the user as "needs confirmation" with the candidates, never a silent best guess:

* Names are normalised on both sides (accents, case, ``&``, punctuation, ``St.`` → saint/state,
  tennis ``Surname, Given``). Identity comes from ``yes_sub_title`` labels, never from ticker codes.
* A name scores 1.0 when equal or when the alias table puts both in one row; only then are noise words
  (``team``, ``esports``, mascots …) dropped and compared again (0.95), then a token-sorted
  ``SequenceMatcher`` ratio. Distinguishing tokens (``state``, ``academy``, ``u21`` …) must agree.
* Tennis/table tennis compare surname plus first initial (``J. Sinner`` = ``Jannik Sinner``).
* An event matches only if BOTH teams reach the threshold in one assignment (straight or swapped),
  the other assignment does not also qualify, the runner-up event is at least ``margin`` worse, and
  the US-Eastern date (and, when known, the start time within 2 h) agrees.

Scores are exact ``Decimal`` values in [0, 1] (4 places, rounded down) so thresholds are exact.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal
from difflib import SequenceMatcher
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kmm_tui.odds.sports import NameStyle, SportSpec

EASTERN = ZoneInfo("America/New_York")
ONE = Decimal(1)
ZERO = Decimal(0)
NOISE_MATCH = Decimal("0.95")  # equal only after dropping noise words / surname + initial
SURNAME_ONLY = Decimal("0.90")  # "Sinner" vs "Jannik Sinner"
DEFAULT_THRESHOLD = Decimal("0.85")
DEFAULT_MARGIN = Decimal("0.1")
DEFAULT_MAX_START_GAP_MS = 2 * 3_600_000
_QUANTUM = Decimal("0.0001")

DISTINGUISHING = frozenset(
    {"state", "academy", "youth", "u19", "u21", "u23", "women", "ii", "b", "reserves"}
)
_NOISE = frozenset({"team", "esports", "gaming", "clan", "club", "fc", "cf", "afc", "sc"})
# US mascot words: The Odds API writes "School Mascot", Kalshi often the school or city alone.
_MASCOT_WORDS = """
    aggies anteaters antelopes aztecs badgers bearcats bears beavers bengals billikens bison
    blackbirds bluejays blue bobcats boilermakers braves broncos broncs bruins buccaneers buckeyes
    buffaloes bulldogs bulls camels cardinal cardinals catamounts cavaliers chanticleers chippewas
    colonels commodores cornhuskers cougars cowboys crimson crusaders cyclones deacons demon demons
    devils dolphins dons ducks dukes eagles explorers falcons fighting flames flyers friars gaels
    gators gamecocks golden gophers grizzlies hawkeyes hawks heels hens highlanders hilltoppers
    hokies hoosiers hornets horned hurricanes huskies illini jackrabbits jaguars jaspers jayhawks
    kangaroos knights lancers leathernecks lions lobos longhorns lumberjacks mastodons matadors
    mavericks midshipmen miners monarchs mountaineers musketeers mustangs nittany norse ospreys owls
    paladins panthers patriots peacocks penguins phoenix pilots pioneers pirates privateers quakers
    racers raiders rainbow rams rattlers ravens razorbacks rebels red redbirds redhawks retrievers
    roadrunners rockets runnin saints salukis seahawks seawolves seminoles sharks skyhawks sooners
    spartans spiders stags storm sun sycamores tar terrapins terriers texans thundering tide tigers
    titans toreros tribe tritons trojans utes vandals vikings volunteers warhawks warriors wave
    wildcats wolfpack wolverines wolves zips
"""
_MASCOTS = frozenset(_MASCOT_WORDS.split())
NOISE_WORDS = _NOISE | _MASCOTS
_PERSON_SECTIONS = frozenset({"tennis", "tabletennis"})

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_EVENT_CODE = re.compile(r"^(\d{2})([A-Z]{3})(\d{2})(\d{4})?")
_TIE_LABELS = frozenset({"tie", "draw"})


# --- normalisation -----------------------------------------------------------------------------


def fold(text: str) -> str:
    """NFKD, drop combining marks, casefold: ``Montréal`` → ``montreal``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def normalize_name(raw: str, style: NameStyle = NameStyle.TEAM) -> str:
    """Canonical comparable form of a team or player name (keep ``raw`` for display)."""
    text = fold(raw).replace("&", " and ")
    text = re.sub(r"\be-sports\b", "esports", text)
    if style is NameStyle.PERSON and "," in text:
        surname, _, given = text.partition(",")
        text = f"{given} {surname}"
    text = re.sub(r"[.'’`]", "", text)
    text = re.sub(r"[^0-9a-z]+", " ", text)
    tokens = text.split()
    if style is NameStyle.PERSON:
        # "Sinner J" / "De Minaur A" (surname first, initial last) -> "j sinner"
        if len(tokens) >= 2 and len(tokens[-1]) == 1 and len(tokens[0]) > 1:
            tokens = [tokens[-1], *tokens[:-1]]
        return " ".join(tokens)
    out: list[str] = []
    for i, token in enumerate(tokens):
        if token == "st" and len(tokens) > 1:
            out.append("saint" if i == 0 else "state")
        else:
            out.append(token)
    return " ".join(out)


def strip_noise(normalized: str) -> str:
    """Drop noise words and mascots; keep the name if nothing would remain."""
    kept = [t for t in normalized.split() if t not in NOISE_WORDS]
    return " ".join(kept) if kept else normalized


def _ratio(a: str, b: str) -> Decimal:
    """Exact SequenceMatcher ratio 2M/T on token-sorted strings, rounded down to 4 places."""
    sa, sb = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    if not sa or not sb:
        return ZERO
    matched = sum(block.size for block in SequenceMatcher(None, sa, sb, autojunk=False).get_matching_blocks())
    return (Decimal(2 * matched) / Decimal(len(sa) + len(sb))).quantize(_QUANTUM, rounding=ROUND_FLOOR)


# --- aliases -----------------------------------------------------------------------------------


class AliasFileError(ValueError):
    """The alias table or the user's confirmed-pairs file cannot be read."""


@dataclass(slots=True)
class AliasTable:
    """Per-section groups of names that denote one team (normalised keys → group id)."""

    groups: dict[str, dict[str, str]] = field(default_factory=dict)

    @staticmethod
    def _style(section: str) -> NameStyle:
        return NameStyle.PERSON if section in _PERSON_SECTIONS else NameStyle.TEAM

    def add_group(self, section: str, names: Iterable[str]) -> None:
        """Put all ``names`` in one group of ``section``, merging groups they already belong to."""
        style = self._style(section)
        table = self.groups.setdefault(section, {})
        keys = [k for k in (normalize_name(n, style) for n in names) if k]
        if not keys:
            return
        existing = {table[k] for k in keys if k in table}
        target = min(existing) if existing else f"{section}:{keys[0]}"
        for key, group in list(table.items()):
            if group in existing:
                table[key] = target
        for key in keys:
            table[key] = target

    def same(self, a: str, b: str, sections: Sequence[str]) -> bool:
        """True when normalised names ``a`` and ``b`` share a group in any of ``sections``."""
        for section in sections:
            table = self.groups.get(section, {})
            group = table.get(a)
            if group is not None and group == table.get(b):
                return True
        return False

    @classmethod
    def from_toml_text(cls, text: str, origin: str) -> AliasTable:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AliasFileError(f"{origin}: not valid TOML ({exc}); fix the file or restore it") from None
        table = cls()
        for section, rows in data.items():
            if not isinstance(rows, dict):
                raise AliasFileError(f"{origin}: [{section}] must be a table of name = [variants]")
            for canonical, variants in rows.items():
                if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                    raise AliasFileError(
                        f"{origin}: [{section}] {canonical!r} must map to a list of strings"
                    )
                table.add_group(section, [canonical, *variants])
        return table

    @classmethod
    def packaged(cls) -> AliasTable:
        """The alias table shipped as ``kmm_tui/odds/aliases.toml``."""
        text = resources.files("kmm_tui.odds").joinpath("aliases.toml").read_text(encoding="utf-8")
        return cls.from_toml_text(text, "kmm_tui/odds/aliases.toml")


# --- Kalshi / book event shapes ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KalshiOutcome:
    """One Kalshi market of a match: its ticker and the ``yes_sub_title`` naming the YES side."""

    ticker: str
    label: str

    @property
    def is_tie(self) -> bool:
        return fold(self.label).strip() in _TIE_LABELS or self.ticker.upper().endswith("-TIE")


@dataclass(frozen=True, slots=True)
class KalshiEvent:
    """A Kalshi match: event ticker, title, its outcome markets, and the scheduled start if known."""

    event_ticker: str
    title: str
    outcomes: tuple[KalshiOutcome, ...]
    start_ms: int | None = None  # milestone start_date; None → date (and HHMM) from the ticker

    @property
    def teams(self) -> tuple[KalshiOutcome, KalshiOutcome]:
        teams = [o for o in self.outcomes if not o.is_tie]
        if len(teams) != 2:
            raise ValueError(
                f"{self.event_ticker} has {len(teams)} team markets ({[o.label for o in teams]}); "
                "only two-team matches (plus an optional Tie) can be matched"
            )
        return teams[0], teams[1]

    @property
    def tie(self) -> KalshiOutcome | None:
        return next((o for o in self.outcomes if o.is_tie), None)


@dataclass(frozen=True, slots=True)
class BookEvent:
    """A sportsbook event: ``side1``/``side2`` are home/away or participant1/participant2."""

    source: str
    id: str
    side1: str
    side2: str
    start_ms: int


# --- time ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TickerSchedule:
    """What an event ticker says about the start: US-Eastern date, optional Eastern wall time."""

    eastern_date: date
    eastern_minutes: int | None  # minutes after Eastern midnight, from HHMM

    def start_ms(self) -> int | None:
        if self.eastern_minutes is None:
            return None
        hours, minutes = divmod(self.eastern_minutes, 60)
        day = self.eastern_date
        return _datetime_ms(datetime(day.year, day.month, day.day, hours, minutes, tzinfo=EASTERN))


def _datetime_ms(value: datetime) -> int:
    delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def eastern_date(ms: int) -> date:
    """US-Eastern calendar date of a UTC instant (00:30Z Nov 29 → Nov 28)."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).astimezone(EASTERN).date()


def parse_ticker_schedule(event_ticker: str) -> TickerSchedule | None:
    """``KXCS2GAME-26NOV281330VITFAZ`` → 2026-11-28 at 13:30 Eastern; None if not parseable."""
    _, _, rest = event_ticker.upper().partition("-")
    found = _EVENT_CODE.match(rest)
    if not found or found.group(2) not in _MONTHS:
        return None
    yy, mon, dd, hhmm = found.groups()
    try:
        day = date(2000 + int(yy), _MONTHS[mon], int(dd))
    except ValueError:
        return None
    minutes = None
    if hhmm is not None:
        hh, mm = int(hhmm[:2]), int(hhmm[2:])
        if hh < 24 and mm < 60:
            minutes = hh * 60 + mm
    return TickerSchedule(day, minutes)


def schedule_problem(kalshi: KalshiEvent, book_start_ms: int, max_gap_ms: int) -> str | None:
    """Why the book event cannot be this Kalshi event by time, or None when the time fits."""
    schedule = parse_ticker_schedule(kalshi.event_ticker)
    book_day = eastern_date(book_start_ms)
    if schedule is not None:
        kalshi_day = schedule.eastern_date
    elif kalshi.start_ms is not None:
        kalshi_day = eastern_date(kalshi.start_ms)
    else:
        return f"{kalshi.event_ticker} has no date code and no known start; confirm the match by hand"
    if kalshi_day != book_day:
        return f"book event is on {book_day.isoformat()} (US Eastern), Kalshi on {kalshi_day.isoformat()}"
    kalshi_start = kalshi.start_ms if kalshi.start_ms is not None else (schedule and schedule.start_ms())
    if kalshi_start is not None and abs(kalshi_start - book_start_ms) > max_gap_ms:
        gap_min = abs(kalshi_start - book_start_ms) // 60_000
        return f"start times differ by {gap_min} min (more than {max_gap_ms // 60_000} min)"
    return None


# --- scoring ------------------------------------------------------------------------------------


def _person_score(a: str, b: str) -> Decimal:
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return ZERO

    def surnames(tokens: list[str]) -> set[str]:
        found = {tokens[-1]}
        if len(tokens) >= 3:
            found.add(" ".join(tokens[-2:]))
        return found

    if len(ta) == 1 or len(tb) == 1:
        single, other = (ta, tb) if len(ta) == 1 else (tb, ta)
        return SURNAME_ONLY if single[0] in surnames(other) and len(single[0]) > 1 else ZERO
    given_a, given_b = ta[0], tb[0]
    if given_a[0] != given_b[0]:
        return ZERO
    full_given = len(given_a) > 1 and len(given_b) > 1
    if full_given and not (given_a.startswith(given_b) or given_b.startswith(given_a)):
        return ZERO  # "Alexander Zverev" vs "Mischa Zverev"
    if surnames(ta) & surnames(tb):
        return NOISE_MATCH
    return min(_ratio(" ".join(ta[1:]), " ".join(tb[1:])), NOISE_MATCH)


def name_score(
    kalshi_label: str,
    book_name: str,
    style: NameStyle,
    aliases: AliasTable,
    sections: Sequence[str],
) -> Decimal:
    """How sure we are that two names denote one team/player: 1 exact/alias … 0 different."""
    a, b = normalize_name(kalshi_label, style), normalize_name(book_name, style)
    if not a or not b:
        return ZERO
    if a == b or aliases.same(a, b, sections):
        return ONE
    if style is NameStyle.PERSON:
        return _person_score(a, b)
    if DISTINGUISHING.intersection(a.split()) != DISTINGUISHING.intersection(b.split()):
        return ZERO  # "Northwestern St" is never "Northwestern"
    sa, sb = strip_noise(a), strip_noise(b)
    if sa == sb or aliases.same(sa, sb, sections):
        return NOISE_MATCH
    return min(_ratio(sa, sb), NOISE_MATCH)


# --- decisions ----------------------------------------------------------------------------------


class MatchStatus(StrEnum):
    MATCHED = "matched"
    NEEDS_CONFIRMATION = "needs_confirmation"
    NO_CANDIDATE = "no_candidate"


class Side(StrEnum):
    """Which outcome of the book event a Kalshi market corresponds to."""

    SIDE1 = "side1"
    SIDE2 = "side2"
    DRAW = "draw"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One book event scored against the Kalshi event in its better assignment."""

    book: BookEvent
    swapped: bool  # False: team A ↔ side1, team B ↔ side2; True: A ↔ side2, B ↔ side1
    score_a: Decimal
    score_b: Decimal
    other_assignment_ok: bool  # the opposite assignment also qualifies (ambiguous orientation)
    time_problem: str | None

    @property
    def confidence(self) -> Decimal:
        return min(self.score_a, self.score_b)


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """The outcome of matching one Kalshi event: matched (with pairs) or why not, with candidates."""

    status: MatchStatus
    kalshi: KalshiEvent
    chosen: Candidate | None
    candidates: tuple[Candidate, ...]
    reason: str
    confirmed_by_user: bool = False

    @property
    def matched(self) -> bool:
        return self.status is MatchStatus.MATCHED

    @property
    def confidence(self) -> Decimal:
        if self.confirmed_by_user:
            return ONE
        return self.chosen.confidence if self.chosen is not None else ZERO

    def pairs(self) -> dict[str, Side]:
        """Kalshi market ticker → book side; empty unless matched."""
        if not self.matched or self.chosen is None:
            return {}
        team_a, team_b = self.kalshi.teams
        side_a, side_b = (Side.SIDE2, Side.SIDE1) if self.chosen.swapped else (Side.SIDE1, Side.SIDE2)
        out = {team_a.ticker: side_a, team_b.ticker: side_b}
        tie = self.kalshi.tie
        if tie is not None:
            out[tie.ticker] = Side.DRAW
        return out


def _qualifies(pair: tuple[Decimal, Decimal], threshold: Decimal) -> bool:
    return pair[0] >= threshold and pair[1] >= threshold


@dataclass(slots=True)
class Matcher:
    """Matches Kalshi events to book events with the packaged aliases plus user-confirmed pairs.

    ``confirmed_path`` (a JSON file in the state directory) stores what the user confirmed: whole
    event pairings and the name pairs they imply, so the next match of those teams is automatic.
    """

    aliases: AliasTable
    confirmed_path: Path | None = None
    threshold: Decimal = DEFAULT_THRESHOLD
    margin: Decimal = DEFAULT_MARGIN
    max_start_gap_ms: int = DEFAULT_MAX_START_GAP_MS
    _confirmed_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    _confirmed_names: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, confirmed_path: Path | None = None, **options: Any) -> Matcher:
        """Packaged aliases + the user's confirmed pairs (a missing file is an empty one)."""
        matcher = cls(AliasTable.packaged(), confirmed_path, **options)
        if confirmed_path is not None and confirmed_path.exists():
            matcher._read_confirmed(confirmed_path)
        return matcher

    def _read_confirmed(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            events = dict(data.get("events", {}))
            names = list(data.get("names", []))
            for pair in names:
                self.aliases.add_group(str(pair["section"]), [str(pair["kalshi"]), str(pair["book"])])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AliasFileError(
                f"{path}: cannot read confirmed matches ({exc}); fix or delete the file "
                "(you will be asked to confirm those matches again)"
            ) from None
        self._confirmed_events = events
        self._confirmed_names = names

    def _write_confirmed(self) -> None:
        if self.confirmed_path is None:
            return
        self.confirmed_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.confirmed_path.with_suffix(self.confirmed_path.suffix + ".tmp")
        payload = {"events": self._confirmed_events, "names": self._confirmed_names}
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.confirmed_path)

    def score(self, kalshi: KalshiEvent, book: BookEvent, spec: SportSpec) -> Candidate:
        """Score both assignments of one book event; keep the better one."""
        team_a, team_b = kalshi.teams

        def s(label: str, name: str) -> Decimal:
            return name_score(label, name, spec.style, self.aliases, spec.alias_sections)

        straight = (s(team_a.label, book.side1), s(team_b.label, book.side2))
        swapped = (s(team_a.label, book.side2), s(team_b.label, book.side1))
        key_straight = (min(straight), sum(straight))
        key_swapped = (min(swapped), sum(swapped))
        use_swapped = key_swapped > key_straight
        chosen, other = (swapped, straight) if use_swapped else (straight, swapped)
        return Candidate(
            book=book,
            swapped=use_swapped,
            score_a=chosen[0],
            score_b=chosen[1],
            other_assignment_ok=_qualifies(other, self.threshold),
            time_problem=schedule_problem(kalshi, book.start_ms, self.max_start_gap_ms),
        )

    def decide(self, kalshi: KalshiEvent, books: Sequence[BookEvent], spec: SportSpec) -> MatchDecision:
        """Pick the book event for ``kalshi`` or explain why a human has to confirm."""
        scored = sorted(
            (self.score(kalshi, book, spec) for book in books),
            key=lambda c: (c.time_problem is None, c.confidence, c.score_a + c.score_b),
            reverse=True,
        )
        shown = tuple(scored[:5])
        confirmed = self._confirmed_event(kalshi, books)
        if confirmed is not None:
            book, swapped = confirmed
            candidate = next(c for c in scored if c.book is book)
            if candidate.swapped != swapped:
                candidate = Candidate(
                    book, swapped, candidate.score_b, candidate.score_a, False, candidate.time_problem
                )
            return MatchDecision(MatchStatus.MATCHED, kalshi, candidate, shown, "confirmed by you", True)
        in_time = [c for c in scored if c.time_problem is None]
        if not in_time:
            reason = "no book event on that date"
            good_names = [c for c in scored if _qualifies((c.score_a, c.score_b), self.threshold)]
            if good_names:
                reason = f"same teams found, but {good_names[0].time_problem}"
            return MatchDecision(MatchStatus.NO_CANDIDATE, kalshi, None, shown, reason)
        best = in_time[0]
        team_a, team_b = kalshi.teams
        if max(best.score_a, best.score_b) < self.threshold:
            reason = "no book event with these teams on that date"
            return MatchDecision(MatchStatus.NO_CANDIDATE, kalshi, None, shown, reason)
        if not _qualifies((best.score_a, best.score_b), self.threshold):
            weak = team_a if best.score_a < self.threshold else team_b
            reason = (
                f"best candidate {best.book.side1} vs {best.book.side2}: {weak.label!r} scores "
                f"{min(best.score_a, best.score_b)} < {self.threshold}; confirm it or pick another"
            )
            return MatchDecision(MatchStatus.NEEDS_CONFIRMATION, kalshi, None, shown, reason)
        if best.other_assignment_ok:
            reason = "both team orders fit the book event equally; confirm which team is which"
            return MatchDecision(MatchStatus.NEEDS_CONFIRMATION, kalshi, None, shown, reason)
        if len(in_time) > 1 and best.confidence - in_time[1].confidence < self.margin:
            runner = in_time[1]
            reason = (
                f"two book events fit ({best.book.side1} vs {best.book.side2} and "
                f"{runner.book.side1} vs {runner.book.side2}); confirm the right one"
            )
            return MatchDecision(MatchStatus.NEEDS_CONFIRMATION, kalshi, None, shown, reason)
        return MatchDecision(MatchStatus.MATCHED, kalshi, best, shown, "names and start time agree")

    def _confirmed_event(
        self, kalshi: KalshiEvent, books: Sequence[BookEvent]
    ) -> tuple[BookEvent, bool] | None:
        for book in books:
            entry = self._confirmed_events.get(f"{book.source}|{kalshi.event_ticker}")
            if entry is not None and entry.get("book_id") == book.id:
                return book, bool(entry.get("swapped"))
        return None

    def confirm(self, kalshi: KalshiEvent, book: BookEvent, swapped: bool, spec: SportSpec) -> None:
        """Store the user's pairing of this event and the name aliases it implies, then persist."""
        team_a, team_b = kalshi.teams
        self._confirmed_events[f"{book.source}|{kalshi.event_ticker}"] = {
            "book_id": book.id,
            "swapped": swapped,
        }
        section = spec.alias_sections[0]
        pairs = ((team_a.label, book.side2 if swapped else book.side1),
                 (team_b.label, book.side1 if swapped else book.side2))
        for kalshi_label, book_name in pairs:
            if normalize_name(kalshi_label, spec.style) == normalize_name(book_name, spec.style):
                continue
            entry = {"section": section, "kalshi": kalshi_label, "book": book_name}
            if entry not in self._confirmed_names:
                self._confirmed_names.append(entry)
            self.aliases.add_group(section, [kalshi_label, book_name])
        self._write_confirmed()


def kalshi_event_from_markets(
    event_ticker: str, title: str, markets: Iterable[Mapping[str, Any]], start_ms: int | None = None
) -> KalshiEvent:
    """Build a :class:`KalshiEvent` from Kalshi market dicts (``ticker``, ``yes_sub_title``)."""
    outcomes = tuple(
        KalshiOutcome(str(m["ticker"]), str(m.get("yes_sub_title") or "")) for m in markets
    )
    return KalshiEvent(event_ticker, title, outcomes, start_ms)
