"""The pacing benchmark (dialer.sim): scenarios, common customers, the metrics, the CLI."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from dialer.events import Outcome
from dialer.ports import Lead
from dialer.sim import harness, metrics, world
from dialer.sim.cli import main
from dialer.sim.scenario import Scenario, load, parse
from dialer.states import AgentState
from dialer.telephony.sim import CallTruth, Fate

PACING_EXAMPLE = """
name = "mid-25"
hours = 8
agents = 20
seed = 1

[answer]
live = 0.25
machine = 0.30
busy = 0.05
invalid = 0.02
by_hour = []

[ring]
distribution = "bimodal"
mean_s = 8.0
sd_s = 4.0
no_answer_timeout_s = 25

[talk]
mean_s = 120
cv = 1.0
short_share = 0.0
short_mean_s = 15

[wrap]
mean_s = 15
cv = 0.0

[amd]
enabled = false
false_positive = 0.03
false_negative = 0.10
delay_s = 2.0

[rules]
abandon_cap = 0.03
connect_limit_s = 2.0
window = "30d"

[[breaks]]
at_h = 2.0
minutes = 15
share = 0.5
staggered = true

[[shocks]]
at_h = 4.0
minutes = 30
live_multiplier = 0.5
"""

TINY = """
name = "tiny"
hours = 0.25
agents = 3
[answer]
live = 0.4
machine = 0.1
"""


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- scenarios -----------------------------------------------------------------------


def test_it_reads_the_example_of_pacing_md() -> None:
    sc = parse(PACING_EXAMPLE, "example.toml")
    assert (sc.name, sc.hours, sc.agents, sc.seed) == ("mid-25", 8.0, 20, 1)
    assert sc.answer.live == 0.25 and sc.answer.others == pytest.approx(0.37)
    assert sc.ring.distribution == "bimodal" and sc.ring.no_answer_timeout_s == 25
    assert sc.talk.mean_s == 120 and sc.talk.cv == 1.0
    assert sc.amd.enabled is False and sc.rules.window == "30d"
    assert sc.breaks[0].share == 0.5 and sc.breaks[0].staggered is True
    assert sc.shocks[0].live_multiplier == 0.5
    assert sc.live_share(4.2 * 3600) == 0.125 and sc.live_share(4.6 * 3600) == 0.25


def test_every_key_has_the_default_of_pacing_md(tmp_path: Path) -> None:
    sc = load(_write(tmp_path, "", "plain.toml"))
    assert sc == Scenario(name="plain")
    assert parse(PACING_EXAMPLE) == parse(PACING_EXAMPLE.replace("by_hour = []", ""))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agents = ", "not valid TOML"),
        ("colour = 'red'", "colour: unknown key"),
        ("[answer]\nlive = 0.2\nlive_share = 0.3", "[answer] live_share: unknown key"),
        ("[[breaks]]\nat_h = 1\nminutes = 5\nlength = 3", "[[breaks]] #1 length: unknown key"),
        ("[answer]\nlive = 1.5", "[answer] live: must be at most 1, not 1.5"),
        ("[answer]\nlive = -0.1", "[answer] live: must be at least 0"),
        ("[answer]\nlive = '25%'", "[answer] live: must be a number, not str '25%'"),
        ("[answer]\nlive = true", "[answer] live: must be a number, not bool True"),
        ("[answer]\nlive = 0.7\nmachine = 0.3\nbusy = 0.05", "[answer]: live + machine"),
        ("hours = 2\n[answer]\nby_hour = [1.0]", "[answer] by_hour: needs one multiplier"),
        ("hours = 1\n[answer]\nby_hour = [-1]", "[answer] by_hour: item 1 must be a number"),
        ("agents = 0", "agents: must be at least 1, not 0"),
        ("agents = 2.5", "agents: must be a whole number, not float 2.5"),
        ("seed = -1", "seed: must be at least 0"),
        ("hours = 0", "hours: must be above 0"),
        ("hours = 16", "hours: must be at most 15"),
        ("hours = 1.001", "hours: must be a whole number of minutes"),
        ("name = ''", "name: must be a non-empty string"),
        ("[ring]\ndistribution = 'normal'", "[ring] distribution: must be one of 'bimodal'"),
        ("[ring]\nmean_s = 0", "[ring] mean_s: must be above 0"),
        ("[talk]\ncv = -1", "[talk] cv: must be at least 0"),
        ("[talk]\nshort_share = 2", "[talk] short_share: must be at most 1"),
        ("[wrap]\nmean_s = -5", "[wrap] mean_s: must be at least 0"),
        ("[amd]\nenabled = 'yes'", "[amd] enabled: must be true or false"),
        ("[amd]\nenabled = true\ndelay_s = 0", "[amd] delay_s: must be above 0 when detection"),
        ("[rules]\nwindow = '7d'", "[rules] window: must be one of '30d', '24h', not '7d'"),
        ("[rules]\nabandon_cap = 0", "[rules] abandon_cap: must be above 0"),
        ("[rules]\nconnect_limit_s = 0", "[rules] connect_limit_s: must be above 0"),
        ("answer = 3", "[answer]: must be a table, not int 3"),
        ("breaks = 3", "breaks: must be an array of tables"),
        ("[[breaks]]\nminutes = 5", "[[breaks]] #1 at_h: is required"),
        ("hours = 2\n[[breaks]]\nat_h = 2\nminutes = 5", "[[breaks]] #1 at_h: must fall inside"),
        ("[[shocks]]\nat_h = 1\nminutes = 0", "[[shocks]] #1 minutes: must be above 0"),
        (
            "[answer]\nlive = 0.5\n[[shocks]]\nat_h = 1\nminutes = 10\nlive_multiplier = 2",
            "[answer] live: with by_hour and shocks the live share reaches 1.000",
        ),
    ],
)
def test_it_refuses_a_bad_scenario_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text, "bad.toml")
    with pytest.raises(ValueError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_it_raises_a_short_ring_timeout_to_15_s_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="no_answer_timeout_s: 10 s is below 15 s"):
        sc = parse("[ring]\nno_answer_timeout_s = 10", "short.toml")
    assert sc.ring.no_answer_timeout_s == 15


def test_it_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.toml: cannot read"):
        load(tmp_path / "missing.toml")


# --- common customers ----------------------------------------------------------------


def test_record_draws_depend_on_seed_record_and_attempt_only() -> None:
    sc = parse(PACING_EXAMPLE)
    assert world.draw(sc, 1, 7, 1) == world.draw(sc, 1, 7, 1)
    assert world.draw(sc, 1, 7, 1) != world.draw(sc, 1, 7, 2)
    assert world.draw(sc, 1, 7, 1) != world.draw(sc, 2, 7, 1)
    assert world.draw(sc, 1, 7, 1) != world.draw(sc, 1, 8, 1)


def test_a_lower_live_share_only_turns_people_into_no_answers() -> None:
    answer = parse(PACING_EXAMPLE).answer  # machine .30, busy .05, invalid .02, live .25
    u_values = [n / 1000 for n in range(1000)]
    full = [world.outcome_of(answer, u, 0.25) for u in u_values]
    half = [world.outcome_of(answer, u, 0.125) for u in u_values]
    for a, b in zip(full, half, strict=True):
        assert a == b or (a, b) == (Outcome.ANSWERED, Outcome.NO_ANSWER)
    assert full.count(Outcome.ANSWERED) == 250 and half.count(Outcome.ANSWERED) == 125
    assert full.count(Outcome.MACHINE) == 300


def test_detection_errs_at_the_scenario_rates() -> None:
    sc = parse("[amd]\nenabled = true\nfalse_positive = 0.2\nfalse_negative = 0.1")
    person = [world.fate_of(sc, world.Draw(0.99, 8, 60, 15, u / 100), 1.0) for u in range(100)]
    assert all(f.outcome is Outcome.ANSWERED for f in person)
    assert sum(bool(f.amd_says_machine) for f in person) == 20
    machine = [world.fate_of(sc, world.Draw(0.0, 8, 60, 15, u / 100), 1.0) for u in range(100)]
    assert sum(f.amd_says_machine is False for f in machine) == 10
    plain = parse("").amd
    assert plain.enabled is False
    assert world.fate_of(parse(""), world.Draw(0.0, 8, 60, 15, 0.5), 0.25).amd_says_machine is None


def test_two_policies_meet_the_same_customers() -> None:
    sc = parse(TINY)
    fates: list[dict[str, Fate]] = []
    for policy in ("progressive", "ratio:2"):
        day = harness.Day(sc, policy, seed=5)
        day.play()
        firsts: dict[str, Fate] = {}
        for t in day.tel.truth.values():
            firsts.setdefault(t.number, t.fate)
        fates.append(firsts)
    common = fates[0].keys() & fates[1].keys()
    assert len(common) > 20
    assert all(fates[0][n] == fates[1][n] for n in common)


def test_the_list_retries_by_outcome_within_the_day() -> None:
    leads = world.ListLeads(ends_at=10_000)
    first = leads.claim("c", 0)
    assert isinstance(first, Lead) and (first.number, first.attempt) == ("r1", 1)
    leads.placed("c1", first.ref)
    leads.ended("c1", Outcome.BUSY, at=100)
    second = leads.claim("c", 100 + 899)
    assert isinstance(second, Lead) and second.number == "r2"
    again = leads.claim("c", 100 + 900)
    assert isinstance(again, Lead) and (again.number, again.attempt) == ("r1", 2)
    leads.placed("c3", again.ref)
    leads.ended("c3", Outcome.ABANDONED, at=2000)
    held = leads.claim("c", 5600)
    assert isinstance(held, Lead) and held.number == "r1"
    leads.release(held, "abandon_hold", 2000 + 72 * 3600)
    assert leads.dropped["abandon_hold"] == 1
    leads.placed("c4", second.ref)
    leads.ended("c4", Outcome.NO_ANSWER, at=9000)  # 2 h later is after the day: dropped
    nxt = leads.claim("c", 9999)
    assert isinstance(nxt, Lead) and nxt.number == "r3"


def test_the_engine_holds_abandoned_customers_for_72_hours() -> None:
    text = TINY.replace("hours = 0.25", "hours = 1.5").replace("live = 0.4", "live = 0.6")
    sc = parse(text + "[rules]\nabandon_cap = 1.0\n")
    day = harness.Day(sc, "ratio:4", seed=2)
    day.play()
    result = day.measure()
    assert result["abandons"] > 0
    assert day.leads.dropped["abandon_hold"] > 0
    assert result["redials_within_72h_of_abandon"] == 0
    assert result["silent_calls"] == 0 and result["early_hangups"] == 0


def test_agents_take_their_break_and_come_back() -> None:
    breaks = "[[breaks]]\nat_h = 0.05\nminutes = 5\nshare = 0.34\nstaggered = false\n"
    sc = parse(TINY + "[talk]\nmean_s = 60\ncv = 0\n" + breaks)
    assert harness.break_plan(sc) == [(0, 180.0, 300.0)]
    day = harness.Day(sc, "progressive", seed=1)
    day.engine.start()
    day.clock.advance(180 + 200)  # an agent on a call goes on break after the wrap-up
    assert day.engine.agent_state("a0") is AgentState.PAUSED
    assert day.engine.agent_state("a1") is not AgentState.PAUSED
    day.clock.advance(500)
    assert day.engine.agent_state("a0") is not AgentState.PAUSED


# --- metrics on hand-built truth -----------------------------------------------------


def _person(number: str, dialed: float, answered: float | None, **kw: float | None) -> CallTruth:
    fate = Fate(Outcome.ANSWERED, 8.0, 60.0)
    return CallTruth(number, fate, dialed, answered, **kw)  # type: ignore[arg-type]


def _stats(truths: list[CallTruth], day_end: float = 1e9) -> metrics.CallStats:
    return metrics.call_stats(truths, day_end=day_end, connect_limit_s=2.0, setup_s=0.5)


def test_abandon_follows_the_legal_rule() -> None:
    in_time = _person("a", 0, 8.5, bridged_at=10.5, ended_at=70.5)
    late = _person("b", 0, 8.5, bridged_at=10.6, ended_at=70.6)  # joined after 2.1 s
    message = _person("c", 0, 8.5, played_at=10.0, ended_at=16.0)
    amd_false_positive = CallTruth(
        "d", Fate(Outcome.ANSWERED, 8, 60, True), 0, 10.5, played_at=10.5, ended_at=16.5
    )
    machine = CallTruth("e", Fate(Outcome.MACHINE, 8, 60), 0, 8.5, played_at=10.0)
    s = _stats([in_time, late, message, amd_false_positive, machine])
    assert (s.live_answers, s.abandons, s.silent) == (4, 3, 1)  # the late one heard nothing
    assert [ab for _at, ab in s.answers] == [False, True, True, True]
    assert s.talk_s == pytest.approx(120)


def test_early_hang_ups_are_unanswered_calls_given_up_before_15_s() -> None:
    def rang(outcome: Outcome, after: float) -> CallTruth:
        return CallTruth("n", Fate(outcome, 30, 0), 0, unanswered_after_s=after)

    s = _stats(
        [
            rang(Outcome.NO_ANSWER, 15.4),  # 14.9 s of ringing after the 0.5 s set-up
            rang(Outcome.NO_ANSWER, 15.5),
            rang(Outcome.ANSWERED, 12.0),  # a person who would have answered at 30 s
            rang(Outcome.BUSY, 2.0),
            rang(Outcome.INVALID, 0.5),
            rang(Outcome.NO_ANSWER, 25.5),
        ]
    )
    assert s.early == 2


def test_a_redial_within_72_hours_of_an_abandon_is_counted() -> None:
    hour = 3600.0
    abandoned = _person("r1", 0, 9, played_at=10.5)
    s = _stats(
        [
            abandoned,
            _person("r1", hour, None),
            _person("r2", 0, 9, played_at=10.5),
            _person("r2", 73 * hour, None),
            _person("r3", 0, 9, bridged_at=10, ended_at=20),
            _person("r3", 2 * hour, None),
        ]
    )
    assert s.redials == 1


def test_only_the_day_counts() -> None:
    talk = _person("a", 0, 10, bridged_at=100, ended_at=400)
    late = _person("b", 600, 610, played_at=612)
    s = _stats([talk, late], day_end=300)
    assert s.dials == 1 and s.talk_s == pytest.approx(200) and s.live_answers == 1


def test_recovery_is_the_time_back_under_the_cap_after_a_shock() -> None:
    steady = [(t, False) for t in range(0, 7200, 10)]
    assert metrics.recovery_min(steady, shock_end=3600, day_end=7200, cap=0.03) == 0.0
    burst = [*steady, *((3600 + n, True) for n in range(5))]
    # 5 abandons among about 65 answers in the window until they leave it, 10 min later.
    assert metrics.recovery_min(burst, shock_end=3600, day_end=7200, cap=0.03) == pytest.approx(
        10.0, abs=0.2
    )


# --- the bound and the CLI -----------------------------------------------------------


def test_the_bound_is_talk_over_talk_wrap_and_latency_of_working_time() -> None:
    sc = parse("hours = 1\nagents = 4\n[[breaks]]\nat_h = 0.5\nminutes = 30\nshare = 0.5")
    # Staggered over an hour: the second agent's break would start as the day ends.
    assert harness.break_plan(sc) == [(0, 1800.0, 1800.0)]
    assert harness.non_break_share(sc) == pytest.approx(0.875)
    assert harness.bound_utilisation(sc) == pytest.approx(0.875 * 120 / 135.5)
    short = parse("[talk]\nmean_s = 100\nshort_share = 0.2\nshort_mean_s = 10\n[wrap]\nmean_s = 5")
    assert harness.bound_utilisation(short) == pytest.approx(82 / 87.5)


def test_the_cli_writes_the_json_of_pacing_md(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TINY)
    out = tmp_path / "out.json"
    argv = ["run", str(path), "--policy", "predictive", "--policy", "bound", "--seeds", "2"]
    assert main([*argv, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["scenario"] == "tiny" and data["seeds"] == 2
    assert list(data["policies"]) == ["predictive", "bound"]  # progressive ran, unshown
    keys = {
        "talk_utilisation",
        "occupancy",
        "talk_min_per_agent_hour",
        "abandon_rate",
        "worst_day_abandon",
        "dials_per_agent_hour",
        "live_per_agent_hour",
        "mean_idle_s",
        "p90_idle_s",
        "silent_calls",
        "early_hangups",
        "redials_within_72h_of_abandon",
        "gap_closed",
    }
    for policy in data["policies"].values():
        assert keys <= policy["mean"].keys() and keys <= policy["worst"].keys()
    assert data["policies"]["bound"]["mean"]["gap_closed"] == 1.0
    printed = capsys.readouterr().out
    assert "predictive" in printed and "progressive" not in printed


def test_the_cli_refuses_unknown_policies_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, TINY)
    assert main(["run", str(path), "--policy", "psychic"]) == 2
    assert "unknown pacing policy 'psychic'" in capsys.readouterr().err
    bad = _write(tmp_path, "agents = 'x'", "bad.toml")
    assert main(["run", str(bad), "--policy", "progressive"]) == 2
    assert "bad.toml: agents" in capsys.readouterr().err


def test_no_warning_leaks_from_a_run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert harness.run(parse(TINY), "preview", 1)["dials_per_agent_hour"] > 0
