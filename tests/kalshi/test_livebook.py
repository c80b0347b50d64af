"""The feed's book is updated level by level; after any sequence of deltas it must equal the book
rebuilt from the per-leg sizes (what it used to do on every delta)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kmm_tui.domain.book import Book
from kmm_tui.domain.prices import Count, Price
from kmm_tui.kalshi.ws import _LiveBook

deltas = st.lists(
    st.tuples(
        st.sampled_from(["yes", "no"]),
        st.integers(min_value=1, max_value=99).map(lambda c: Price(c * 100)),
        st.integers(min_value=-600, max_value=600).filter(bool),
    ),
    max_size=80,
)
legs = st.dictionaries(
    st.integers(min_value=1, max_value=99).map(lambda c: Price(c * 100)),
    st.integers(min_value=1, max_value=500).map(Count),
    max_size=10,
)


@given(legs, legs, deltas)
def test_incremental_book_equals_the_rebuilt_book(yes: dict, no: dict, changes: list) -> None:  # type: ignore[type-arg]
    live = _LiveBook()
    live.reset(dict(yes), dict(no))
    for side, price, delta in changes:
        live.apply(side, price, delta)
        assert live.book == Book.from_legs(live.yes, live.no)
