"""Smoke runs of the engine benchmarks in tiny configurations: they run end to end against the
simulator, write their JSON, and the numbers are sane (the real runs are ``make bench``)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bench import bench_http, bench_reaction, bench_replay, bench_scale, bench_writes, reaction_legs
from bench.common import AMEND_TOKENS, CANCEL_TOKENS, CREATE_TOKENS, percentile, write_scenario
from kmm_tui.sim import load_scenario


def test_percentile_is_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 99) == 5.0
    assert percentile(values, 0) == 1.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_generated_scenario_has_distinct_matches(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, 30)
    tomllib.loads(path.read_text())
    spec = load_scenario(path)
    assert len(spec.matches) == 30
    codes = {team.code for match in spec.matches for team in match.teams}
    assert len(codes) == 60


def test_book_path_moves_every_step_and_stays_under_the_ceiling() -> None:
    path = bench_writes.book_path(500, seed=1)
    previous = bench_writes.START_CENTS
    for cents in path:
        assert cents != previous
        assert bench_writes.LOW_CENTS <= cents <= bench_writes.HIGH_CENTS
        bench_writes.expected_quote(cents)  # raises if the quote would reach the sticky ceiling
        previous = cents
    assert bench_writes.book_path(500, seed=1) == path, "the path must be reproducible"


async def test_reaction_bench_engine_beats_the_polling_baseline(tmp_path: Path) -> None:
    config = bench_reaction.Config(trials=5, baseline_trials=1, poll_interval_s=0.2, loaded=3)
    result = await bench_reaction.run(config, results_dir=tmp_path)
    engine = result["engine"]["exchange_applied"]
    baseline = result["baseline_rest_poll"]["exchange_applied"]
    assert engine["n"] == 5 and baseline["n"] == 1
    assert result["engine_loaded"]["exchange_applied"]["n"] == 5
    assert result["engine_loaded"]["other_matches_quoting"] == 3
    assert 0 < engine["p50_ms"] <= engine["p99_ms"] < 1000
    assert result["engine"]["client_acked"]["p50_ms"] >= engine["p50_ms"], "the reply follows the amend"
    assert baseline["p50_ms"] > engine["p50_ms"]
    assert result["baseline_rest_poll"]["polls"] >= 2
    assert json.loads((tmp_path / "reaction.json").read_text()) == result


async def test_write_bench_counts_amends_against_cancel_replace(tmp_path: Path) -> None:
    config = bench_writes.Config(changes=5, interval_s=0.1, settle_s=0.2)
    result = await bench_writes.run(config, results_dir=tmp_path)
    engine, naive = result["engine_amend"], result["baseline_cancel_replace"]
    assert result["quote_moves_needed"] == 5
    assert 1 <= engine["quote_moves"] <= 5 and 1 <= naive["quote_moves"] <= 5
    assert engine["requests_by_token_cost"] == {str(AMEND_TOKENS): engine["write_requests"]}
    assert engine["write_requests"] == engine["quote_moves"], "one amend per quote move"
    assert naive["write_requests"] == 2 * naive["quote_moves"], "one cancel and one create per move"
    assert naive["tokens"] == (CANCEL_TOKENS + CREATE_TOKENS) * naive["quote_moves"]
    bursts = result["engine_bursts"]
    assert 1 <= bursts["write_requests"] <= 5 and bursts["bursts"] == 1, "a burst never costs more writes"
    assert json.loads((tmp_path / "writes.json").read_text()) == result


async def test_scale_bench_measures_idle_and_quoting_windows(tmp_path: Path) -> None:
    config = bench_scale.Config(matches=(2,), seconds=1.0, warmup_s=0.5, basic_at=(2,))
    result = await bench_scale.run(config, results_dir=tmp_path)
    case, basic, baseline = result["cases"]
    assert (case["tier"], basic["tier"], baseline["tier"]) == ("prestige", "basic", "basic")
    assert basic["write_gate"] and not baseline["write_gate"], "the basic tier runs with and without the gate"
    assert set(basic["decision_age_at_send_ms"]) == {"write_gate", "baseline_no_gate"}
    assert basic["basic_tier_no_429"] == "pass" and basic["http_429_received_whole_run"] == 0
    assert all(c["close_verdict"] == "pass" and 0 < c["close_s"] <= 10 for c in (case, basic, baseline))
    assert result["key_type"] == "ed25519"
    assert case["quoting"]["journal_commits_per_s"] > 0, "the journal is on"
    idle, quoting = case["idle_baseline"], case["quoting"]
    assert case["markets"] == 4 and quoting["resting_orders"] == 4
    assert idle["decisions_per_s"] == 0 and idle["order_writes_per_s"] == 0
    assert quoting["decisions_per_s"] > 0
    assert idle["book_updates_received_per_s"] > 0 and idle["driver_updates_per_s"] > 0
    assert idle["engine_cpu_s"] > 0 and quoting["engine_cpu_s"] > 0
    assert 0 <= idle["loop_lag_ms"]["p50"] <= idle["loop_lag_ms"]["max"]
    assert quoting["peak_rss_mb"] >= quoting["rss_mb"] > 0
    assert idle["keeps_up"], f"20 updates/s must not back the feed up: {idle['feed_delay_ms']}"
    legs = quoting["reaction_legs_ms"]
    assert set(reaction_legs.LEGS + reaction_legs.REQUEST_PARTS + reaction_legs.FEED_PARTS) <= set(legs)
    assert legs["n_complete"] <= legs["n_moves_answered"] == quoting["reaction_ms"]["n"]
    exchange = quoting["exchange_amend_ms"]
    assert exchange["loop_lag"]["p50"] is not None, "the simulator's loop lag is sampled in its process"
    assert "served" not in exchange, "the simulator's per-amend stamps are consumed, not reported"
    assert json.loads((tmp_path / "scale.json").read_text()) == result


async def test_the_soak_runs_to_its_verdict_and_keeps_none_of_the_benchs_own_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make soak`` in miniature: its memory must be the engine's (the probe's lists and the leg
    tracer's finished traces are dropped at every sample), and it prints its verdict."""
    monkeypatch.setattr(bench_scale, "GOAL_MATCHES", 2)
    monkeypatch.setattr(bench_scale, "SOAK_WARMUP_S", 1.0)
    monkeypatch.setattr(bench_scale, "SOAK_SAMPLE_S", 0.5)
    config = bench_scale.Config(seconds=1.0, warmup_s=0.5, soak_minutes=2 / 60)
    result = await bench_scale.run(config, results_dir=tmp_path)
    case = result["case"]
    assert case["close_verdict"] == "pass" and case["quoting"]["reaction_ms"]["n"] > 0
    # dropped at every sample: at most the moves answered since the last one (4 markets, ~1/s each)
    assert len(bench_scale.TRACER.done) <= 4, "the tracer's finished traces are the soak's to drop"
    bench_scale._print(result)
    printed = capsys.readouterr().out
    assert "CLOSE kill all" in printed and "slope after the warm-up" in printed
    written = json.loads((tmp_path / "soak.json").read_text())
    assert written["case"]["close_verdict"] == "pass" and "rss_slope_mb_per_min" in written["case"]["soak"]


def test_reaction_legs_split_a_followed_move_and_match_the_drivers_stamp() -> None:
    tracer = reaction_legs.LegTracer()
    tracer.moved("T", exchange_ms=1_000)
    trace = tracer.open["T"]
    trace.received, trace.received_wall_ns = 10_000_000, 1_002_000_000  # received 2 ms after ts
    trace.woken, trace.decided, trace.handed = 10_500_000, 10_600_000, 10_700_000
    trace.sent, trace.replied, trace.order_id = 10_800_000, 13_800_000, "o1"
    tracer.answered("T", amended=True)
    tracer.done[-1] = ("T", trace, 13_900_000, 1_005_900_000)
    moves = {"T": [999_000_000, 1_000_600_000, 1_500_000_000]}  # the move 0.6 ms into the exchange's ms
    served = [["o1", 11_800_000, 12_800_000]]
    sent = [["T", 1_000, 1_001_000_000]]  # the move's delta left the exchange 0.4 ms after the move
    legs = tracer.legs(0, moves, served, sent)
    assert legs["n_complete"] == 1
    assert legs["feed"]["p50"] == 2.0 and legs["wake"]["p50"] == 0.5 and legs["request"]["p50"] == 3.0
    assert (legs["to_exchange"]["p50"], legs["in_exchange"]["p50"], legs["from_exchange"]["p50"]) == (
        1.0, 1.0, 1.0
    )
    assert legs["precise_feed"]["p50"] == 1.4 and legs["precise_reaction"]["p50"] == 5.3
    assert (legs["in_exchange_feed"]["p50"], legs["to_listener"]["p50"]) == (0.4, 1.0)
    tracer.moved("T", exchange_ms=2_000)
    tracer.answered("T", amended=True)  # a reply that was in flight: no stamps of its own
    assert tracer.legs(0, moves, served, sent)["n_complete"] == 1


async def test_replay_bench_records_the_scale_session_and_replays_it_fast(tmp_path: Path) -> None:
    result = await bench_replay.run(2, seconds=1.0, warmup_s=0.5, results_dir=tmp_path)
    recording, replay = result["recording"], result["replay"]
    assert recording["recording_cpu_s"] > 0 and 0 < recording["share_of_engine_cpu"] < 1
    assert replay["matches"] == 2 and replay["settings_replayed"] == 4
    assert replay["decisions"] > 0 and replay["decisions_identical"] == replay["decisions"]
    assert replay["speedup_over_real_time"] >= 50
    assert json.loads((tmp_path / "replay.json").read_text()) == result


async def test_http_bench_compares_both_clients_on_real_amends(tmp_path: Path) -> None:
    result = await bench_http.run(bench_http.Config(amends=20, concurrency=2), results_dir=tmp_path)
    assert result["baseline_httpx_cpu_ms_per_write"] > 0 and result["aiohttp_cpu_ms_per_write"] > 0
    assert result["verdict"] in ("pass", "FAIL") and result["target_ratio"] == 3.0
    assert json.loads((tmp_path / "http.json").read_text()) == result
