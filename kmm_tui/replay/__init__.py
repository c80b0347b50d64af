"""Session recording and replay: "what would edge 3c have earned yesterday?"

While a match runs, ``recorder.SessionRecorder`` writes what the strategy saw at every decision (the
books without our own bids, theo, clock, settings, our resting bids and inventory) plus our orders,
fills and status changes to one compressed file per session (``format``: versioned, documented in
docs/replay.md). ``session.load_session`` reads it back (refusing damaged files), ``runner`` replays it
through the same ``domain.quoting.decide`` and ``engine.reconciler.plan_side`` under other settings with
the queue model of ``queue``, and ``report`` prints the side-by-side comparison. ``cli`` is
``kmm replay``.
"""
