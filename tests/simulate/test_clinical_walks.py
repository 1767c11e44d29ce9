"""Clinical walks (10-m walk test, corridor walk) and slower, older walkers."""

import json

import numpy as np
import pytest

from imugait.cli import main
from imugait.errors import ValidationError
from imugait.simulate import (
    PhaseKind,
    SimulationConfig,
    WalkerParams,
    corridor_walk,
    simulate,
    ten_metre_walk,
)
from imugait.simulate.populations import (
    Population,
    draw_walker_params,
    population_ranges,
    typical_walker_params,
)
from imugait.simulate.timeline import WALK_RAMP_S


def walk_phases(result):
    return [(s.name, s.t_start_s, s.t_end_s) for s in result.session.meta.steps if s.name.startswith("walk")]


def strides_in(cycles, side: str, t0: float, t1: float):
    c = cycles[(cycles["side"] == side) & cycles["steady"]]
    return c[(c["t_initial_contact_s"] >= t0) & (c["t_next_initial_contact_s"] <= t1)]


@pytest.fixture(scope="module")
def ten_metre():
    walker = WalkerParams()
    timeline = ten_metre_walk(walker.speed_mps, passes=2, standing=False)
    return simulate(SimulationConfig(walker=walker, timeline=timeline, seed=5))


def test_ten_metre_walk_has_the_passes_and_turns_asked_for():
    for passes in (1, 2, 3):
        kinds = [p.kind for p in ten_metre_walk(1.2, passes=passes, standing=False)]
        assert kinds == [PhaseKind.WALK, PhaseKind.TURN] * (passes - 1) + [PhaseKind.WALK]
        standing = [p.kind for p in ten_metre_walk(1.2, passes=passes, standing=True)]
        assert standing[0] is PhaseKind.STAND and standing[-1] is PhaseKind.STAND and len(standing) == len(kinds) + 2
    with pytest.raises(ValidationError):
        ten_metre_walk(1.2, passes=0)


def test_ten_metre_passes_are_ten_metres_with_a_half_turn_between(ten_metre):
    tl = ten_metre.walker.timeline
    passes = walk_phases(ten_metre)
    assert len(passes) == 2
    for _, t0, t1 in passes:
        distance_m = np.linalg.norm(tl.position_xy_m(t1) - tl.position_xy_m(t0))
        assert distance_m == pytest.approx(10.0, abs=0.05)
    heading = tl.heading_rad(np.array([passes[0][2] - 0.1, passes[1][1] + 0.1]))
    assert np.rad2deg(heading[1] - heading[0]) == pytest.approx(180.0, abs=0.5)


def test_ten_metre_walk_without_standing_starts_and_ends_walking(ten_metre):
    series = ten_metre.truth.series
    weight = series["walking_weight"].to_numpy()
    t = series["t_s"].to_numpy()
    assert not any(s.name.startswith("stand") for s in ten_metre.session.meta.steps)
    # At rest only for the instant walking starts and stops (the smooth start and stop ramps).
    at_rest = t[weight < 0.01]
    assert at_rest.size and np.all((at_rest < 0.3 * WALK_RAMP_S) | (at_rest > t[-1] - 0.3 * WALK_RAMP_S))
    assert ten_metre.truth.events.query("event == 'initial_contact'")["t_s"].min() < 1.5


def test_ten_metre_gives_four_to_eight_strides_per_leg_per_pass(ten_metre):
    for _, t0, t1 in walk_phases(ten_metre):
        for side in ("left", "right"):
            assert 4 <= len(strides_in(ten_metre.truth.cycles, side, t0, t1)) <= 8


def test_corridor_walk_goes_up_and_down_thirty_metres_for_at_most_the_time_given():
    for minutes in (2, 6):
        phases = corridor_walk(1.2, 60.0 * minutes, standing=False)
        walks = [p for p in phases if p.kind is PhaseKind.WALK]
        turns = [p for p in phases if p.kind is PhaseKind.TURN]
        assert len(turns) == len(walks) - 1 and phases[0].kind is PhaseKind.WALK
        assert sum(p.duration_s for p in phases) <= 60.0 * minutes
        assert sum(p.duration_s for p in phases) > 60.0 * minutes - 30.0 / 1.2 - 2 * 2.5
        for p in walks[1:-1]:
            assert p.duration_s == pytest.approx(30.0 / 1.2)
    assert corridor_walk(1.2, 120.0, standing=True)[0].kind is PhaseKind.STAND


def test_older_walker_has_longer_stance_shorter_strides_and_less_knee_flexion():
    older = typical_walker_params(Population.OLDER)
    r = population_ranges(Population.OLDER)
    assert r["speed_mps"][0] <= older.speed_mps <= r["speed_mps"][1] <= 1.0
    timeline = ten_metre_walk(older.speed_mps, passes=1)
    results = {name: simulate(SimulationConfig(walker=w, timeline=timeline, seed=2))
               for name, w in (("adult", WalkerParams()), ("older", older))}
    steady = {k: v.truth.cycles.query("steady") for k, v in results.items()}
    assert steady["older"]["stance_pct"].mean() == pytest.approx(older.stance_pct, abs=0.5)
    assert steady["adult"]["stance_pct"].mean() == pytest.approx(59.0, abs=0.5)
    stride_m = {k: results[k].config.walker.speed_mps * steady[k]["stride_time_s"].mean() for k in steady}
    assert stride_m["older"] < 0.8 * stride_m["adult"]
    assert steady["older"]["knee_flexion_max_deg"].mean() < steady["adult"]["knee_flexion_max_deg"].mean() - 2.0


def test_population_draws_stay_in_their_ranges():
    rng = np.random.default_rng(3)
    r = population_ranges(Population.OLDER)
    for _ in range(20):
        w = draw_walker_params(Population.OLDER, rng)
        assert r["speed_mps"][0] <= w.speed_mps <= r["speed_mps"][1]
        assert r["stance_pct"][0] <= w.stance_pct <= r["stance_pct"][1]
        assert r["sagittal_scale"][0] <= w.left.sagittal_scale <= r["sagittal_scale"][1]
    assert draw_walker_params(Population.ADULT, rng).stance_pct is None


def test_stance_too_far_from_the_curves_is_refused():
    with pytest.raises(ValidationError):
        WalkerParams(stance_pct=80.0)


def test_cli_ten_metre_older_walker_with_soft_tissue(tmp_path, capsys):
    out = tmp_path / "tmw"
    args = ["simulate", "--out", str(out), "--protocol", "ten-metre", "--passes", "3", "--no-standing",
            "--sta", "literature", "--older", "--walking-speed", "0.7", "--seed", "1"]
    assert main(args) == 0
    config = json.loads((out / "truth" / "config.json").read_text())
    assert [p["kind"] for p in config["timeline"]] == ["walk", "turn", "walk", "turn", "walk"]
    assert config["errors"]["soft_tissue_scale"] == 1.0 and config["errors"]["wobble_deg"] == 0.0
    assert config["walker"]["speed_mps"] == 0.7 and config["walker"]["stance_pct"] == 63.5
    sensors = json.loads((out / "truth" / "sensors.json").read_text())
    assert len(sensors["left_thigh"]["soft_tissue"]["rotation_per_rad"]) == 3
    assert main(["simulate", "--out", str(tmp_path / "x"), "--no-standing"]) == 1
    assert "--no-standing applies to" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "protocol"), [("--minutes", None), ("--passes", "corridor"),
                                                  ("--bouts", "ten-metre"), ("--bout-s", "corridor")])
def test_cli_refuses_an_option_of_another_protocol(tmp_path, capsys, option, protocol):
    """`imugait simulate --out x --minutes 3` (no --protocol corridor) wrote a 36-s walking test,
    the option silently ignored (newcomer pass, twenty-first session)."""
    out = tmp_path / "x"
    args = ["simulate", "--out", str(out), option, "3"] + (["--protocol", protocol] if protocol else [])
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{option} applies to --protocol" in err and f"not {protocol or 'walking'}: add --protocol" in err
    assert not out.exists()


def test_cli_help_says_the_corridor_walk_ends_with_a_whole_length(capsys):
    """`--minutes 3` walks 178 s (the walk stops after the last whole 30-m length that fits); the
    help said "minutes of walking" (newcomer pass, twenty-first session)."""
    with pytest.raises(SystemExit):
        main(["simulate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "corridor: minutes of walking, turns included, at most: the walk ends with the last whole length" in text


def test_cli_says_what_it_simulates_while_it_runs(tmp_path, monkeypatch):
    """A 6-minute corridor walk ran 35 s (wall, a loaded machine) without a word until done;
    `analyze` and `report` show a status line meanwhile, and so does `simulate` now (newcomer
    pass, twenty-first session)."""
    import contextlib

    from rich.console import Console

    said = []

    @contextlib.contextmanager
    def status(self, text, *args, **kwargs):
        said.append(str(text))
        yield None

    monkeypatch.setattr(Console, "status", status)
    assert main(["simulate", "--out", str(tmp_path / "x"), "--bout-s", "4", "--bouts", "1", "--ideal"]) == 0
    assert said and said[0].startswith("simulating ") and said[0].endswith(" s of the walking protocol")
