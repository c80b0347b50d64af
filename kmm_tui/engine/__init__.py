"""The trading engine: one asyncio core behind every front-end (TUI, ``kmm run``, control API, tests).

Public surface: ``engine.Engine`` (``execute(command)``, ``listen(callback)``, ``snapshot()``,
``describe_pair``, ``preview``, ``feed_theo``, ``kill_all``, ``close``), the typed ``commands`` and
``events``, the ``state`` snapshots, ``model`` (MatchSpec, MatchSettings, TheoInput, MatchStatus) and
``errors.EngineError``. Nothing here imports Textual (``tests/test_layering.py``).
"""
