"""The Kalshi client: signed REST calls, the WebSocket feed, rate limiting, typed models, errors.

Public surface (import from the submodules):

- ``kmm_tui.kalshi.auth``: ``load_private_key``, ``key_file_permission_warning``, ``Signer``.
- ``kmm_tui.kalshi.errors``: ``KalshiError`` and its subclasses, ``error_from_response``.
- ``kmm_tui.kalshi.ratelimit``: ``RateLimiter``, ``Priority``, ``BucketName``, ``TIERS``, ``CostTable``.
- ``kmm_tui.kalshi.models``: frozen dataclasses in domain units (``Market``, ``Order``, ``Fill`` ...).
- ``kmm_tui.kalshi.rest``: ``KalshiRest``, host constants ``PROD_REST``/``DEMO_REST``/``PROD_WS``/``DEMO_WS``.
- ``kmm_tui.kalshi.ws``: ``KalshiFeed`` and its events (``BookEvent``, ``FillEvent``, ``Reconnected`` ...).

Wire strings become ``Price``/``Count``/``Money`` integers only inside this package (``models``).
"""
