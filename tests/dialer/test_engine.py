"""The dialing engine on virtual time: SimTelephony, a ManualClock and in-test fakes."""

from __future__ import annotations

import datetime as dt
import inspect
import time

import pytest

import dialer.compliance
import dialer.engine
import dialer.pacing
from dialer.clock import ManualClock
from dialer.compliance import ABANDON_HOLD_S, CallingHours, CampaignRules, Holidays
from dialer.engine import Engine
from dialer.events import (
    AgentChanged,
    CallAnswered,
    CallHungUp,
    CampaignIdle,
    DialAbandoned,
    DialAnswered,
    DialConnected,
    DialEnded,
    DialPlaced,
    EngineRecord,
    LeadRefused,
    Outcome,
    Party,
    TelephonyEvent,
)
from dialer.pacing import Ratio
from dialer.ports import EventHandler
from dialer.states import AgentState
from dialer.telephony.sim import Fate
from tests.dialer.kit import (
    BUSY,
    MACHINE,
    PERSON,
    TUESDAY_10,
    Desk,
    Leads,
    Rig,
    Scripted,
    Sink,
    at,
    clean_history,
    lead,
    make_rig,
    start_campaign,
)

A = AgentState


def _outstanding_lines_checker(rig: Rig) -> list[tuple[float, int, int]]:
    """At every DialPlaced: (at, lines not yet answered or ended, agents READY)."""
    seen: list[tuple[float, int, int]] = []
    lines: set[str] = set()
    ready: set[str] = set()

    def watch(r: EngineRecord) -> None:
        if isinstance(r, AgentChanged):
            (ready.add if r.state == "ready" else ready.discard)(r.agent)
        elif isinstance(r, DialPlaced):
            lines.add(r.ref)
            seen.append((r.at, len(lines), len(ready)))
        elif isinstance(r, DialAnswered | DialEnded):
            lines.discard(r.ref)

    rig.sink.watch.append(watch)
    return seen


# --- progressive -------------------------------------------------------------------


def test_progressive_places_one_line_per_ready_agent_and_never_more() -> None:
    fates = {}
    for i in range(400):
        kind = i % 4
        if kind == 0:
            fates[f"n{i}"] = Fate(Outcome.ANSWERED, ring_s=2 + i % 7, talk_s=20 + i % 50)
        elif kind == 1:
            fates[f"n{i}"] = BUSY
        elif kind == 2:
            fates[f"n{i}"] = MACHINE
    rig = make_rig(leads=Leads(lead(f"n{i}") for i in range(400)), fates=fates, auto_wrap_s=5.0)
    start_campaign(rig, mode="progressive")
    seen = _outstanding_lines_checker(rig)
    for agent in ("a1", "a2", "a3"):
        rig.engine.agent_login(agent, campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    assert [p.at for p in rig.placed()] == [TUESDAY_10 + 1] * 3  # one line per ready agent
    rig.run(20.0)
    assert len(rig.placed()) == 3 + 1  # n1 was busy: its agent got one more line
    rig.run(1800.0)
    assert len(seen) > 100
    assert all(lines <= ready for _at, lines, ready in seen), [s for s in seen if s[1] > s[2]]
    assert not rig.sink.of(DialAbandoned)


def test_progressive_mode_holds_one_line_per_ready_agent_whatever_the_policy() -> None:
    """A 'progressive' campaign handed an over-dialing policy still dials progressively."""
    rig = make_rig(leads=Leads(lead(f"n{i}") for i in range(100)))
    start_campaign(rig, mode="progressive", policy=Ratio(3.0), history=clean_history(TUESDAY_10))
    seen = _outstanding_lines_checker(rig)
    for agent in ("a1", "a2"):
        rig.engine.agent_login(agent, campaigns={"c": 1})
    rig.engine.start()
    rig.run(30.0)
    assert all(lines <= ready for _at, lines, ready in seen), seen


# --- who gets an answered call ---------------------------------------------------------


def test_an_answered_call_goes_to_the_longest_waiting_ready_agent() -> None:
    rig = make_rig(leads=Leads(lead(f"p{i}") for i in range(4)), default_fate=PERSON)
    policy = Scripted()
    start_campaign(rig, mode="predictive", policy=policy)
    for agent in ("c", "a", "b"):  # c has waited longest
        rig.engine.agent_login(agent, campaigns={"c": 1})
        rig.run(5.0)
    rig.engine.start()

    def next_call_goes_to() -> str:
        policy.pending = 1
        rig.run(10.0)
        return rig.sink.of(DialConnected)[-1].agent

    assert next_call_goes_to() == "c"
    assert next_call_goes_to() == "a"
    rig.engine.agent_hangup("c")
    rig.engine.agent_ready("c")  # c is ready again, after b
    assert next_call_goes_to() == "b"
    assert next_call_goes_to() == "c"
    assert [agent for agent, _offer in rig.desk.offers] == ["c", "a", "b", "c"]


def test_an_agent_on_two_campaigns_takes_the_waiting_call_of_the_better_priority() -> None:
    leads = Leads(
        [
            lead("a1", campaign="A"),
            lead("b1", campaign="B"),
            lead("b2", campaign="B"),
            lead("a2", campaign="A"),
        ]
    )
    fates = {
        "a1": PERSON,
        "b1": PERSON,
        "b2": Fate(Outcome.ANSWERED, ring_s=2.0, talk_s=1000),  # answers first
        "a2": Fate(Outcome.ANSWERED, ring_s=2.2, talk_s=1000),
    }
    rig = make_rig(leads=leads, fates=fates)
    pa, pb = Scripted(), Scripted()
    start_campaign(rig, "A", mode="predictive", policy=pa, history=clean_history(TUESDAY_10))
    start_campaign(rig, "B", mode="predictive", policy=pb, history=clean_history(TUESDAY_10))
    rig.engine.agent_login("x", campaigns={"A": 1, "B": 2})
    rig.engine.agent_login("y", campaigns={"B": 1})
    rig.engine.start()
    pa.pending = 1
    rig.run(6.0)
    pb.pending = 1
    rig.run(6.0)
    assert [(c.agent) for c in rig.sink.of(DialConnected)] == ["x", "y"]
    # Both agents talk; one more line each, answered with no one free.
    pa.pending = pb.pending = 1
    rig.run(1.0)
    rig.run(0.5 + 2.2 + 0.05)
    b2, a2 = rig.ref_of("b2"), rig.ref_of("a2")
    assert rig.answered_at(b2) < rig.answered_at(a2)
    rig.engine.agent_hangup("x")
    rig.engine.agent_ready("x")  # x's first campaign is A: A's waiting call, though younger
    rig.run(5.0)
    joined = {c.ref: c.agent for c in rig.sink.of(DialConnected)}
    assert joined.get(a2) == "x"
    assert [ab.ref for ab in rig.sink.of(DialAbandoned)] == [b2]


# --- abandons and the 72-hour hold -----------------------------------------------------


def test_a_person_with_no_agent_free_hears_the_message_and_is_held_72_hours() -> None:
    elsewhere = TUESDAY_10 - 10 * 3600  # abandoned by another dialer 10 h ago
    long_ago = TUESDAY_10 - 73 * 3600
    leads = Leads(
        [
            lead("L1", customer="cust1", number="n1"),
            lead("L2", customer="cust1", number="n1-other"),  # the same customer again
            lead("L3", customer="cust9", last_abandon_at=elsewhere),
            lead("L4", customer="cust4", last_abandon_at=long_ago),
        ]
    )
    rig = make_rig(leads=leads, fates={"n1": PERSON})
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    call = rig.ref_of("L1")
    rig.engine.agent_pause("a")  # no agent free when the customer answers
    rig.run(20.0)
    answered = rig.tel.truth[call].answered_at
    assert answered is not None
    limit = CampaignRules().connect_limit_s - rig.engine.bridge_allowance_s
    truth = rig.tel.truth[call]
    assert truth.played_at == pytest.approx(answered + limit)  # the recorded message
    assert truth.bridged_at is None
    (abandon,) = rig.sink.of(DialAbandoned)
    assert (abandon.ref, abandon.customer, abandon.message_played) == (call, "cust1", True)
    assert abandon.at == pytest.approx(answered + limit)
    answers, abandons = rig.engine.abandon_rate("c")
    assert answers > 0 and abandons == pytest.approx(answers)  # 100 % of one answer
    assert rig.sink.of(DialEnded)[-1].outcome is Outcome.ABANDONED
    # Back from the pause: the same customer is refused until 72 h after the abandon.
    rig.engine.agent_ready("a")
    rig.run(1.0)
    released = {x.ref: (reason, nb) for x, reason, nb in rig.leads.released}
    assert released["L2"] == ("abandon_hold", abandon.at + ABANDON_HOLD_S)
    assert released["L3"] == ("abandon_hold", elsewhere + ABANDON_HOLD_S)
    refused = {r.lead: r.reason for r in rig.sink.of(LeadRefused)}
    assert refused == {"L2": "abandon_hold", "L3": "abandon_hold"}
    assert [p.lead for p in rig.placed()] == ["L1", "L4"]


def test_dnc_numbers_are_refused_at_dial_time_and_given_back() -> None:
    leads = Leads([lead("D1", number="dnc-1"), lead("D2", number="ok-2")], dnc={"dnc-1"})
    rig = make_rig(leads=leads)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    assert [p.number for p in rig.placed()] == ["ok-2"]
    assert [(x.ref, why, nb) for x, why, nb in leads.released] == [("D1", "dnc", None)]
    assert [(r.lead, r.reason) for r in rig.sink.of(LeadRefused)] == [("D1", "dnc")]
    assert [x.ref for _t, x in leads.checks] == ["D1", "D2"]  # asked just before dialing


def test_a_customer_outside_their_own_window_is_refused_while_the_campaign_is_open() -> None:
    start = at(2026, 11, 24, 10, 30)  # Tuesday 10:30 in Shanghai = Monday 21:30 in New York
    hours = CallingHours()
    assert hours.is_open(start) and not hours.is_open(start, "America/New_York")
    leads = Leads(
        [
            lead("NY", tz="America/New_York"),
            lead("SH", tz="Asia/Shanghai"),
            lead("CAMPAIGN_TZ"),
        ]
    )
    rig = make_rig(start=start, leads=leads)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.agent_login("b", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    assert [p.lead for p in rig.placed()] == ["SH", "CAMPAIGN_TZ"]
    ((refused, why, not_before),) = leads.released
    assert (refused.ref, why) == ("NY", "outside_window")
    assert not_before == at(2026, 11, 24, 8, tz="America/New_York")
    assert [r.reason for r in rig.sink.of(LeadRefused)] == ["outside_window"]


def test_the_daily_contact_limit_counts_the_larger_of_source_and_ledger() -> None:
    leads = Leads(
        [
            *(lead(f"K{i}", customer="k") for i in range(1, 5)),  # four dials of k today
            lead("M1", customer="m"),
            lead("M2", customer="m"),
            # The source counts the two dials above as well: 2, not 2 + 2.
            lead("M3", customer="m", contacts_today=2),
            lead("M4", customer="m"),  # the engine's ledger now has three
            lead("N1", customer="n", contacts_today=3),  # dialed thrice elsewhere today
        ]
    )
    rig = make_rig(leads=leads, default_fate=BUSY)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(60.0)
    assert [p.lead for p in rig.placed()] == ["K1", "K2", "K3", "M1", "M2", "M3"]
    midnight = at(2026, 11, 25)
    refused = [(x.ref, why, nb) for x, why, nb in leads.released]
    assert refused == [
        ("K4", "contact_limit", midnight),
        ("M4", "contact_limit", midnight),
        ("N1", "contact_limit", midnight),
    ]


def test_the_limit_starts_again_on_the_customers_next_local_day() -> None:
    start = at(2026, 11, 24, 23, 58)  # two minutes before midnight in Shanghai
    rules = CampaignRules(hours=CallingHours(windows={d: ((0, 1440),) for d in range(7)}))
    # Given back until the next local midnight: due again then (ended leads never are).
    leads = Leads([lead(f"K{i}", customer="k") for i in range(1, 6)], requeue_s=1e9)
    rig = make_rig(start=start, leads=leads, default_fate=BUSY)
    start_campaign(rig, rules=rules)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(300.0)  # past midnight
    placed = [(p.lead, p.at) for p in rig.placed()]
    assert [ref for ref, _ in placed] == ["K1", "K2", "K3", "K4", "K5"]
    assert placed[2][1] < at(2026, 11, 25) <= placed[3][1] <= at(2026, 11, 25) + 16


# --- ringing ---------------------------------------------------------------------------


def test_a_ring_timeout_of_10_s_still_rings_15_s() -> None:
    rules = CampaignRules(ring_timeout_s=10)
    assert rules.ring_s == 15.0
    late = Fate(Outcome.ANSWERED, ring_s=12.0, talk_s=30.0)  # answers after 12 s
    rig = make_rig(leads=Leads([lead("R1"), lead("R2")]), fates={"R2": late})
    start_campaign(rig, rules=rules)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.agent_login("b", campaigns={"c": 1})
    rig.engine.start()
    rig.run(60.0)
    assert [p.ring_timeout_s for p in rig.placed()][:2] == [15.0, 15.0]
    rang_out = rig.tel.truth[rig.ref_of("R1")]
    assert rang_out.unanswered_after_s is not None and rang_out.unanswered_after_s >= 15.0
    assert rig.tel.truth[rig.ref_of("R2")].bridged_at is not None


# --- calling windows and holidays ------------------------------------------------------


def test_a_statutory_holiday_closes_the_day() -> None:
    tuesday = dt.date(2026, 11, 24)
    hours = CallingHours(holidays=Holidays(rest=frozenset({tuesday})))
    rig = make_rig(leads=Leads(lead(f"n{i}") for i in range(50)))
    start_campaign(rig, rules=CampaignRules(hours=hours))
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(3600.0)
    assert rig.placed() == []
    assert [i.reason for i in rig.sink.of(CampaignIdle)] == ["outside_window"]
    assert hours.next_open(TUESDAY_10) == at(2026, 11, 25, 8)


def test_a_make_up_saturday_uses_mondays_windows() -> None:
    windows = {0: ((8 * 60, 12 * 60),), **{d: ((13 * 60, 18 * 60),) for d in range(1, 5)}}
    saturday = dt.date(2026, 11, 28)
    hours = CallingHours(windows=windows, holidays=Holidays(workdays=frozenset({saturday})))
    start = at(2026, 11, 28, 7, 58)
    rig = make_rig(start=start, leads=Leads(fresh=lambda i: lead(f"s{i}")))
    start_campaign(rig, rules=CampaignRules(hours=hours))
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(6 * 3600.0)  # to 13:58: Friday's afternoon window must not open
    times = [p.at for p in rig.placed()]
    assert len(times) > 100
    assert min(times) >= at(2026, 11, 28, 8) and max(times) < at(2026, 11, 28, 12)
    plain = CallingHours(windows=windows)  # without the make-up day Saturday is closed
    assert plain.next_open(start) == at(2026, 11, 30, 8)


# --- answering-machine detection -------------------------------------------------------

AMD_MACHINE = Fate(Outcome.MACHINE, ring_s=3.0, talk_s=0.0, amd_says_machine=True)


def test_a_machine_verdict_with_no_agent_free_gets_the_message_and_no_agent() -> None:
    rig = make_rig(leads=Leads([lead("M")]), fates={"M": AMD_MACHINE}, amd_delay_s=2.0)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    rig.engine.agent_pause("a")
    rig.run(30.0)
    truth = rig.tel.truth[rig.ref_of("M")]
    assert truth.played_at is not None and truth.bridged_at is None
    assert [r.machine for r in rig.sink.of(DialAnswered)] == [True]
    assert rig.sink.of(DialConnected) == [] and rig.desk.offers == []
    assert rig.sink.of(DialEnded)[-1].outcome is Outcome.MACHINE


def test_a_machine_verdict_with_an_agent_ready_is_joined() -> None:
    rig = make_rig(leads=Leads([lead("M")]), fates={"M": AMD_MACHINE}, amd_delay_s=2.0)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(10.0)
    ref = rig.ref_of("M")
    assert [(c.ref, c.agent) for c in rig.sink.of(DialConnected)] == [(ref, "a")]
    assert rig.tel.truth[ref].played_at is None and rig.tel.truth[ref].bridged_at is not None
    assert [agent for agent, _offer in rig.desk.offers] == ["a"]


def test_an_agent_finding_a_machine_takes_the_answer_back_from_the_window() -> None:
    rig = make_rig(leads=Leads([lead("M"), lead("P")]), fates={"M": MACHINE})
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(10.0)  # no detection: the machine is joined as if a person
    assert rig.engine.agent_state("a") is A.TALKING
    assert rig.engine.abandon_rate("c") == (1.0, 0.0)
    rig.run(30.0)  # the greeting ends, the machine hangs up
    assert rig.engine.agent_state("a") is A.WRAPUP
    rig.engine.agent_ready("a", machine=True)
    assert rig.engine.abandon_rate("c") == (0.0, 0.0)


def test_an_agent_finding_a_person_keeps_the_answer() -> None:
    person = Fate(Outcome.ANSWERED, ring_s=3.0, talk_s=10.0)
    rig = make_rig(leads=Leads([lead("P")]), fates={"P": person})
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(30.0)
    assert rig.engine.agent_state("a") is A.WRAPUP
    rig.engine.agent_ready("a", machine=False)
    assert rig.engine.abandon_rate("c") == (1.0, 0.0)


# --- bridge failure --------------------------------------------------------------------


def _bridge_fails_on_first_answer(agents: list[str]) -> tuple[Rig, str]:
    rig = make_rig(leads=Leads([lead("P")]), fates={"P": PERSON})
    policy = Scripted()
    start_campaign(rig, mode="predictive", policy=policy)
    for agent in agents:
        rig.engine.agent_login(agent, campaigns={"c": 1})
        rig.run(1.0)
    rig.engine.start()
    policy.pending = 1
    rig.run(1.0)
    ref = rig.ref_of("P")
    rig.run(0.5 + 3.0 + 0.1)  # answered 0.1 s ago; the bridge takes 0.5 s
    assert rig.tel.truth[ref].answered_at is not None
    assert rig.tel.truth[ref].bridged_at is None
    assert rig.engine.agent_state(agents[0]) is A.TALKING
    rig.tel.bridge_fails(ref)
    return rig, ref


def test_a_failed_bridge_pauses_the_agent_and_moves_the_call_to_another() -> None:
    rig, ref = _bridge_fails_on_first_answer(["a", "b"])
    assert rig.engine.agent_state("a") is A.PAUSED
    assert rig.sink.agent_states("a")[-2:] == ["talking", "paused"]
    rig.run(5.0)
    assert [(c.ref, c.agent) for c in rig.sink.of(DialConnected)] == [(ref, "b")]
    truth = rig.tel.truth[ref]
    assert truth.bridged_at is not None and truth.answered_at is not None
    assert truth.bridged_at - truth.answered_at <= CampaignRules().connect_limit_s
    assert rig.sink.of(DialAbandoned) == []


def test_a_failed_bridge_with_no_one_else_is_abandoned_with_the_message() -> None:
    rig, ref = _bridge_fails_on_first_answer(["a"])
    assert rig.engine.agent_state("a") is A.PAUSED
    rig.run(5.0)
    (abandon,) = rig.sink.of(DialAbandoned)
    assert (abandon.ref, abandon.message_played) == (ref, True)
    truth = rig.tel.truth[ref]
    assert truth.answered_at is not None and truth.played_at is not None
    assert truth.played_at - truth.answered_at <= CampaignRules().connect_limit_s
    assert rig.sink.of(DialConnected) == []


def test_a_failed_bridge_is_not_bridged_in_the_truth() -> None:
    rig, ref = _bridge_fails_on_first_answer(["a"])
    rig.run(5.0)
    assert rig.tel.truth[ref].bridged_at is None


# --- preview ---------------------------------------------------------------------------


def test_preview_reserves_the_agent_then_dials_with_the_agent_on_the_line() -> None:
    rig = make_rig(leads=Leads([lead("V")]), fates={"V": PERSON}, preview_s=12.0)
    start_campaign(rig, mode="preview")
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    assert rig.engine.agent_state("a") is A.PREVIEW
    assert [x.ref for _t, x in rig.leads.claims] == ["V"]
    rig.run(11.9)
    assert rig.placed() == []  # still previewing
    rig.run(0.1)
    (placed,) = rig.placed()
    assert (placed.at, placed.agent) == (TUESDAY_10 + 13.0, "a")
    assert rig.engine.agent_state("a") is A.DIALING
    rig.run(5.0)
    (joined,) = rig.sink.of(DialConnected)
    assert (joined.agent, joined.wait_s) == ("a", 0.0)
    truth = rig.tel.truth[placed.ref]
    assert truth.bridged_at == truth.answered_at  # the agent was on the line already
    assert rig.engine.agent_state("a") is A.TALKING
    assert rig.sink.agent_states("a") == ["ready", "preview", "dialing", "talking"]


def test_a_preview_running_past_the_customers_window_is_not_dialed() -> None:
    ny = "America/New_York"
    start = at(2026, 11, 24, 20, 59, 50, tz=ny)  # 09:59:50 on Tuesday in Shanghai
    rig = make_rig(start=start, leads=Leads([lead("V", tz=ny)]))
    start_campaign(rig, mode="preview")
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    assert rig.engine.agent_state("a") is A.PREVIEW  # 20:59:51 in New York: still open
    rig.run(15.0)  # the preview ends after 21:00 in New York
    assert rig.placed() == []
    assert [(x.ref, why, nb) for x, why, nb in rig.leads.released] == [
        ("V", "outside_window", at(2026, 11, 25, 8, tz=ny))
    ]
    assert rig.sink.agent_states("a")[:3] == ["ready", "preview", "ready"]


def test_preview_rechecks_the_72_hour_hold_at_dial_time() -> None:
    leads = Leads(
        [lead("Q1", campaign="Q", customer="cust"), lead("P1", campaign="P", customer="cust")]
    )
    rig = make_rig(leads=leads, fates={"Q1": PERSON, "P1": PERSON})
    start_campaign(rig, "Q", mode="progressive")
    start_campaign(rig, "P", mode="preview")
    rig.engine.agent_login("qa", campaigns={"Q": 1})
    rig.engine.agent_login("pa", campaigns={"P": 1})
    rig.engine.start()
    rig.run(1.0)  # Q dials the customer, P previews them
    rig.engine.agent_pause("qa")
    rig.run(20.0)  # Q's answer is abandoned; then P's preview ends
    (abandon,) = rig.sink.of(DialAbandoned)
    later = [p for p in rig.placed() if p.customer == "cust" and p.at > abandon.at]
    assert later == []


def test_logging_out_during_a_preview_gives_the_lead_back() -> None:
    rig = make_rig(leads=Leads([lead("V")]))
    start_campaign(rig, mode="preview")
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(1.0)
    rig.engine.agent_logout("a")
    rig.run(30.0)
    assert rig.placed() == []
    assert [x.ref for x, _why, _nb in rig.leads.released] == ["V"]


# --- pauses, logout, stop --------------------------------------------------------------


def test_a_pause_asked_during_a_call_applies_after_the_wrap_up() -> None:
    rig = make_rig(leads=Leads(lead(f"P{i}") for i in range(5)), default_fate=PERSON)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(10.0)
    assert rig.engine.agent_state("a") is A.TALKING
    rig.engine.agent_pause("a")
    assert rig.engine.agent_state("a") is A.TALKING
    rig.engine.agent_hangup("a")
    assert rig.engine.agent_state("a") is A.WRAPUP
    rig.engine.agent_ready("a")
    assert rig.engine.agent_state("a") is A.PAUSED
    assert rig.sink.agent_states("a")[-4:] == ["talking", "wrapup", "ready", "paused"]
    dialed = len(rig.placed())
    rig.run(120.0)
    assert len(rig.placed()) == dialed  # nothing dialed for a paused agent
    rig.engine.agent_ready("a")
    rig.run(2.0)
    assert len(rig.placed()) == dialed + 1


def test_a_logout_asked_during_a_call_applies_after_the_wrap_up() -> None:
    rig = make_rig(leads=Leads([lead("P")]), default_fate=PERSON)
    start_campaign(rig)
    rig.engine.agent_login("a", campaigns={"c": 1})
    rig.engine.start()
    rig.run(10.0)
    rig.engine.agent_logout("a")
    rig.engine.agent_hangup("a")
    rig.engine.agent_ready("a")
    assert rig.engine.agent_state("a") is A.LOGGED_OUT


def test_stop_stops_dialing_and_lets_the_calls_in_progress_play_out() -> None:
    person = Fate(Outcome.ANSWERED, ring_s=3.0, talk_s=40.0)
    rig = make_rig(
        leads=Leads(lead(f"n{i}") for i in range(200)),
        fates={f"n{i}": person for i in range(0, 200, 3)},
        auto_wrap_s=2.0,
    )
    start_campaign(rig)
    for agent in ("a", "b"):
        rig.engine.agent_login(agent, campaigns={"c": 1})
    rig.engine.start()
    rig.run(50.0)
    rig.engine.stop()
    dialed = len(rig.placed())
    assert dialed > 2 and rig.tel.active_calls() > 0
    rig.run(3600.0)
    assert len(rig.placed()) == dialed
    assert rig.tel.active_calls() == 0
    assert len(rig.sink.of(DialEnded)) == dialed
    assert not rig.engine.running


# --- time ------------------------------------------------------------------------------


def test_the_engine_never_reads_the_wall_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    def wall(*_a: object) -> float:
        raise AssertionError("the engine read the wall clock")

    for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "localtime"):
        monkeypatch.setattr(time, name, wall)
    person = Fate(Outcome.ANSWERED, ring_s=3.0, talk_s=30.0)
    fates = {f"n{i}": person if i % 3 == 0 else BUSY for i in range(300)}
    fates |= {f"n{i}": MACHINE for i in range(1, 300, 7)}
    rig = make_rig(leads=Leads(lead(f"n{i}") for i in range(300)), fates=fates, auto_wrap_s=3.0)
    start_campaign(rig, mode="predictive", policy=Ratio(2.0))
    for agent in ("a", "b", "c"):
        rig.engine.agent_login(agent, campaigns={"c": 1})
    rig.engine.start()
    rig.run(1800.0)
    rig.engine.agent_pause("a")
    rig.run(600.0)
    monkeypatch.undo()
    assert len(rig.placed()) > 50 and rig.sink.of(DialConnected)


def test_the_engine_modules_name_no_wall_clock() -> None:
    for module in (dialer.engine, dialer.compliance, dialer.pacing):
        source = inspect.getsource(module)
        for banned in (
            "import time",
            "time.time(",
            "monotonic(",
            ".now(tz",
            "datetime.now(",
            "today(",
        ):
            assert banned not in source, (module.__name__, banned)


# --- a customer gone before the bridge (a scripted telephony) -----------------------------


class _Phone:
    """Telephony that does nothing by itself: the test plays the events."""

    def __init__(self) -> None:
        self.handlers: dict[str, EventHandler] = {}
        self.connects: list[str] = []
        self.plays: list[str] = []

    def originate(
        self,
        ref: str,
        number: str,
        *,
        ring_timeout_s: float,
        agent_uri: str | None,
        on_event: EventHandler,
    ) -> None:
        self.handlers[ref] = on_event

    def connect(self, ref: str, agent_uri: str) -> None:
        self.connects.append(ref)

    def play(self, ref: str, media: str) -> None:
        self.plays.append(ref)

    def hangup(self, ref: str) -> None:
        return None

    def emit(self, event: TelephonyEvent) -> None:
        self.handlers[event.ref](event)


def test_a_customer_gone_before_the_bridge_is_an_abandoned_live_answer() -> None:
    clock = ManualClock(TUESDAY_10)
    phone = _Phone()
    leads = Leads([lead("P", customer="cust"), lead("P2", customer="cust")])
    sink = Sink(leads)
    engine = Engine(clock=clock, telephony=phone, leads=leads, sink=sink, agents=Desk(clock))
    engine.campaign_start("c", mode="progressive", rules=CampaignRules(), policy=Ratio(1.0))
    engine.agent_login("a", campaigns={"c": 1})
    engine.start()
    clock.advance(1.0)
    (placed,) = sink.of(DialPlaced)
    phone.emit(CallAnswered(placed.ref, clock.now()))
    assert phone.connects == [placed.ref]
    clock.advance(0.3)
    phone.emit(CallHungUp(placed.ref, clock.now(), Party.CUSTOMER))  # before the bridge
    answers, abandons = engine.abandon_rate("c")
    assert answers > 0 and abandons > 0
    engine.agent_ready("a")
    clock.advance(2.0)
    assert [p.lead for p in sink.of(DialPlaced)] == ["P"]  # the same customer is held
