"""kmm_tui.domain: the pure pricing core (no I/O, no asyncio, no clock reads, no randomness).

Units are integers in fixed minor units (see ``prices``): ``Price`` $0.0001, ``Count`` 1/100 contract,
``Money`` $0.000001. The public surface, by job:

* ``prices``    — Price/Count/Money, parsing and formatting, ``TickGrid``.
* ``book``      — ``Book``: a market's visible book in YES terms.
* ``theo``      — odds parsing, de-vig (``devig``/``DevigMethod``), multi-book ``consensus``, ``manual_theo``.
* ``fees``      — ``FeeType``, ``taker_fee``, ``maker_fee``, ``maker_fee_per_contract_upper_bound``.
* ``inventory`` — ``Side``, ``Inventory`` (exposure per outcome, locked sets, P&L by outcome, rebalance
  ceiling); ``TWO_WAY``/``THREE_WAY`` outcome tuples.
* ``quoting``   — ``decide`` and its inputs/outputs (``QuoteSettings``, ``SideInput``, ``SideQuote``,
  ``Reason``, ``QuoteMemo``, ``Decision``).
"""

from kmm_tui.domain.book import Book, Level
from kmm_tui.domain.fees import (
    FeeError,
    FeeType,
    maker_fee,
    maker_fee_per_contract_upper_bound,
    taker_fee,
)
from kmm_tui.domain.inventory import Inventory, Side
from kmm_tui.domain.prices import (
    CENT,
    COUNT_SCALE,
    MONEY_SCALE,
    PRICE_SCALE,
    Count,
    Money,
    Price,
    PriceBand,
    TickGrid,
    WireFormatError,
)
from kmm_tui.domain.quoting import (
    Decision,
    QuoteMemo,
    QuoteSettings,
    Reason,
    SideInput,
    SideMemo,
    SideQuote,
    decide,
)
from kmm_tui.domain.theo import (
    BookOdds,
    Consensus,
    DevigMethod,
    OddsError,
    american_to_decimal,
    consensus,
    devig,
    implied,
    manual_theo,
    overround,
    parse_decimal_odds,
    prob_to_price,
)

__all__ = [
    "CENT",
    "COUNT_SCALE",
    "MONEY_SCALE",
    "PRICE_SCALE",
    "Book",
    "BookOdds",
    "Consensus",
    "Count",
    "Decision",
    "DevigMethod",
    "FeeError",
    "FeeType",
    "Inventory",
    "Level",
    "Money",
    "OddsError",
    "Price",
    "PriceBand",
    "QuoteMemo",
    "QuoteSettings",
    "Reason",
    "Side",
    "SideInput",
    "SideMemo",
    "SideQuote",
    "TickGrid",
    "WireFormatError",
    "american_to_decimal",
    "consensus",
    "decide",
    "devig",
    "implied",
    "maker_fee",
    "maker_fee_per_contract_upper_bound",
    "manual_theo",
    "overround",
    "parse_decimal_odds",
    "prob_to_price",
    "taker_fee",
]
