"""Typed commands into the engine. Front-ends (TUI, headless CLI, control API, tests) send only these."""

from __future__ import annotations

from dataclasses import dataclass

from kmm_tui.domain.prices import Count, Price
from kmm_tui.engine.model import MatchSettings, MatchSpec, TheoInput


@dataclass(frozen=True, slots=True)
class AddMatch:
    spec: MatchSpec
    start: bool = False


@dataclass(frozen=True, slots=True)
class StartMatch:
    match_id: str
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class StopMatch:
    match_id: str
    reason: str = "stopped by user"


@dataclass(frozen=True, slots=True)
class UpdateMatch:
    """Replace a running or stopped match's theo input and/or settings; quotes follow at once."""

    match_id: str
    theo: TheoInput | None = None
    settings: MatchSettings | None = None


@dataclass(frozen=True, slots=True)
class CorrectInventory:
    """Manual inventory correction: set the counts we hold on each outcome and their average cost
    (``count_long_t`` None leaves a three-way match's tie as it is)."""

    match_id: str
    count_long_a: Count
    count_long_b: Count
    avg_cost_a: Price | None = None
    avg_cost_b: Price | None = None
    count_long_t: Count | None = None
    avg_cost_t: Price | None = None


@dataclass(frozen=True, slots=True)
class DeleteMatch:
    match_id: str


@dataclass(frozen=True, slots=True)
class KillAll:
    """Cancel every order we own everywhere, verified, and stop every match."""

    reason: str = "kill switch"


@dataclass(frozen=True, slots=True)
class Shutdown:
    reason: str = "shutdown"


@dataclass(frozen=True, slots=True)
class ResetAccountLimits:
    """The trader's reset after an account-wide limit stopped everything (matches stay stopped)."""


Command = (
    AddMatch
    | StartMatch
    | StopMatch
    | UpdateMatch
    | CorrectInventory
    | DeleteMatch
    | KillAll
    | Shutdown
    | ResetAccountLimits
)
