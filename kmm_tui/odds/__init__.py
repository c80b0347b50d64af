"""Sportsbook odds sources and sportsbook ↔ Kalshi matching.

Public surface:

* ``models``: :class:`MatchRef` (a Kalshi match), :class:`SourceResult` (quotes in outcome order
  A, B[, draw]), :class:`QuotaInfo`, the :class:`OddsSource` protocol.
* Sources: ``theoddsapi.TheOddsApi``, ``oddspapi.OddsPapi``, ``sportsgameodds.SportsGameOdds``,
  ``manual.ManualSource`` — each ``await source.fetch(match) -> SourceResult``.
* ``errors``: what a fetch can raise (config / quota / rate limit / not found / down / unmatched).
* ``matching.Matcher``: name + date matching with aliases (``aliases.toml``) and user confirmations.
* ``consensus.theo_for_match`` / ``divergence_warning``: theo prices from the results.
* ``coverage`` + ``cli.main``: ``kmm odds coverage``.
"""
