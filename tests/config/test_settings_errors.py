"""Every validation problem is ``settings.toml:LINE: what is wrong and how to fix it``."""

from __future__ import annotations

import pytest

from kmm_tui.config import SettingsError, load_settings_text

MATCH = '[[matches]]\nname = "m{n}"\nticker_a = "KX-A{n}"\nticker_b = "KX-B{n}"\n'


def _error(text: str) -> str:
    with pytest.raises(SettingsError) as err:
        load_settings_text(text, environ={})
    return str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        # unknown keys, with the closest known key suggested
        (
            "enviroment = 'demo'\n",
            1,
            'unknown key "enviroment" in the top level; did you mean "environment"?',
        ),
        ("\n[kalshi]\nkey_ID = 'x'\n", 3, 'unknown key "key_ID" in [kalshi]; did you mean "key_id"?'),
        ("[defaults]\nedge = 2\n", 2, 'unknown key "edge" in [defaults]; did you mean "edge_cents"?'),
        ("[odds]\nregion = ['us']\n", 2, 'did you mean "regions"?'),
        ("[scanner]\nzzz = 1\n", 2, 'unknown key "zzz" in [scanner]; known keys: series'),
        # wrong types
        ("[defaults]\ncontracts = 'ten'\n", 2, "[defaults] contracts must be a number, got 'ten' (a string)"),
        (
            "[defaults]\nfee_aware = 1\n",
            2,
            "[defaults] fee_aware must be true or false, got 1 (a whole number)",
        ),
        ("[defaults]\nbackoff_ticks = 1.5\n", 2, "[defaults] backoff_ticks must be a whole number"),
        ("[kalshi]\nkey_id = 42\n", 2, "[kalshi] key_id must be a string, got 42 (a whole number)"),
        ("kalshi = 3\n", 1, "[kalshi] must be a table"),
        ("[odds]\nregions = 'us'\n", 2, "[odds] regions must be an array"),
        # out of range
        ("[defaults]\nedge_cents = 60\n", 2, "[defaults] edge_cents = 60 cents is out of range"),
        (
            "[defaults]\ncontracts = 0\n",
            2,
            "[defaults] contracts = 0 is out of range; use a value more than 0",
        ),
        (
            "[defaults]\nedge_cents = 1.234\n",
            2,
            "edge_cents = 1.234 is too precise; use at most 2 decimal places",
        ),
        ("[odds]\nmax_age_s = 0\n", 2, "[odds] max_age_s = 0 is out of range; use 1..86400"),
        (
            "[defaults]\ncontracts = 20\ninventory_max = 10\n",
            3,
            "inventory_max (10) is smaller than contracts (20)",
        ),
        # bad enums
        (
            "environment = 'live'\n",
            1,
            'environment = "live" is not valid; use one of "sim" | "demo" | "prod"',
        ),
        ("[odds]\ndevig = 'shinn'\n", 2, '[odds] devig = "shinn" is not valid; did you mean "shin"?'),
        ("[kalshi]\ntier = 'pro'\n", 2, '[kalshi] tier = "pro" is not valid'),
        ("[odds]\nregions = ['us', 'eux']\n", 2, '"eux" is not a region; did you mean "eu"?'),
        # URLs
        ("[kalshi]\nrest_url = 'http://example.com/trade-api/v2'\n", 2, "only loopback may, use https://"),
        ("[kalshi]\nrest_url = 'https://x.kalshi.co/v2'\n", 2, "must end with /trade-api/v2"),
        # key material is never accepted
        ("[kalshi]\nprivate_key = '...'\n", 2, "never holds the private key itself"),
        (
            "[kalshi]\nprivate_key_path = '-----BEGIN PRIVATE KEY-----'\n",
            2,
            "private_key_path holds key material",
        ),
        # keys table
        ("[keys]\nquit = 'q'\nhelp = 'f1,q'\n", 3, '[keys] "q" is bound to both quit and help'),
        ("[keys]\n'Quit Now' = 'q'\n", 2, '"Quit Now" is not an action name'),
    ],
)
def test_validation_message_names_the_line_and_the_fix(text: str, line: int, fragment: str) -> None:
    message = _error(text)
    assert message.startswith(f"settings.toml:{line}: "), message
    assert fragment in message, message


def test_unknown_key_in_second_match_points_at_its_line() -> None:
    text = (
        MATCH.format(n=1)
        + "odds_a = '1.9'\nodds_b = '1.9'\n\n"
        + MATCH.format(n=2)
        + "theo_a = 40\ntheo_b = 60\nedg_cents = 2\n"
    )
    message = _error(text)
    assert message == (
        'settings.toml:14: unknown key "edg_cents" in [[matches]] #2; did you mean "edge_cents"?'
    )


@pytest.mark.parametrize(
    ("extra", "line", "fragment"),
    [
        ("", 1, "has no theo source; add odds_a/odds_b"),
        ("odds_a = '1.9'\n", 1, "needs both odds_a and odds_b"),
        ("odds_a = '1.9'\nodds_b = '2'\ntheo_a = 50\n", 1, "sets both odds and theo"),
        ("odds_a = '0.9'\nodds_b = '2'\n", 5, "is not valid decimal odds; use a number above 1"),
        ("odds_a = 'evens'\nodds_b = '2'\n", 5, "is not decimal odds"),
        ("theo_a = 60\ntheo_b = 50\n", 6, "theo_a + theo_b = 110 cents is above 100"),
        ("theo_a = 100\ntheo_b = 0\n", 5, "theo_a = 100 cents is out of range"),
        (
            "theo_a = 50\ntheo_b = 50\ncontracts = 80\n",
            7,
            "inventory_max (50) is smaller than contracts (80)",
        ),
    ],
)
def test_match_problems(extra: str, line: int, fragment: str) -> None:
    message = _error(MATCH.format(n=1) + extra)
    assert message.startswith(f"settings.toml:{line}: [[matches]] #1"), message
    assert fragment in message, message


def test_same_tickers_and_duplicate_names_are_rejected() -> None:
    same = '[[matches]]\nname = "x"\nticker_a = "KX-A"\nticker_b = "KX-A"\ntheo_a = 50\ntheo_b = 50\n'
    assert _error(same).startswith(
        "settings.toml:4: [[matches]] #1 ticker_a and ticker_b are the same market"
    )
    one = MATCH.format(n=1) + "theo_a = 50\ntheo_b = 50\n"
    two = one.replace("KX-A1", "KX-C1").replace("KX-B1", "KX-D1").replace('"m1"', '"M1"')
    assert _error(one + two).startswith('settings.toml:8: two saved matches are named "M1"')


def test_lowercase_ticker_is_rejected() -> None:
    text = '[[matches]]\nname = "x"\nticker_a = "kx-a"\nticker_b = "KX-B"\ntheo_a = 50\ntheo_b = 50\n'
    assert _error(text).startswith(
        'settings.toml:3: [[matches]] #1 ticker_a = "kx-a" is not a Kalshi market ticker'
    )


def test_toml_syntax_error_is_reformatted_with_its_line() -> None:
    message = _error('environment = "sim"\n[kalshi]\nkey_id = abc\n')
    assert message.startswith("settings.toml:3: TOML syntax error at column 10: Invalid value; fix that line")
    assert 'strings need quotes: key_id = "abc"' in message


def test_toml_error_at_end_of_document_names_the_last_line() -> None:
    message = _error("[defaults]\nedge_cents = 2\nedge_cents = 3\n")
    assert message.startswith("settings.toml:3: TOML syntax error")


def test_error_prefix_uses_the_file_name() -> None:
    with pytest.raises(SettingsError, match=r"^work\.toml:1: "):
        load_settings_text("bogus = 1\n", name="work.toml", environ={})


def test_line_index_ignores_lookalike_keys_inside_multiline_values() -> None:
    text = (
        "[keys]\n"
        "help = '''\n"
        "[defaults]\n"
        "contracts = 1\n"
        "'''\n"
        "[scanner]\n"
        "series = [\n"
        '  "KXNBAGAME",  # ] a bracket in a comment\n'
        '  "KX]NHL", \n'
        "]\n"
        "[defaults]\n"
        "contracts = -1\n"
    )
    message = _error(text)
    assert message.startswith("settings.toml:12: [defaults] contracts = -1 is out of range"), message


def test_dotted_keys_and_quoted_headers_are_indexed() -> None:
    message = _error('environment = "sim"\ndefaults.contracts = "x"\n')
    assert message.startswith("settings.toml:2: [defaults] contracts must be a number")
    quoted = _error('[ "odds" . "book_weights" ]\npinnacle = -1\n')
    assert quoted.startswith("settings.toml:2: [odds] book_weights.pinnacle = -1 is out of range"), quoted
