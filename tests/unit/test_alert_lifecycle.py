"""The incident lifecycle (who hears what, when), quiet hours and DST, and the daily summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from groundswell.domain.alerting.gsm import gsm_units, segments
from groundswell.domain.alerting.lifecycle import AlertState, on_tick, on_transition, quiet_hours_end, record_sent
from groundswell.domain.alerting.notices import AlertKind
from groundswell.domain.alerting.summary import BrandDay, brand_day, summary_due, summary_text
from groundswell.domain.models import Bucket, Recipient
from tests.conftest import make_brand, make_incident

T0 = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)  # 09:05 in New York


def brand(**alerting: object):  # type: ignore[no-untyped-def]
    recipients = [
        {"name": "On-call", "channel": "sms", "address": "+14155550100", "role": "pr_oncall"},
        {"name": "Lead", "channel": "email", "address": "lead@example.com", "role": "comms_lead"},
        {"name": "CEO", "channel": "sms", "address": "+14155550199", "role": "executive", "min_severity": 4},
        {
            "name": "Night owl",
            "channel": "email",
            "address": "owl@example.com",
            "role": "pr_oncall",
            "timezone": "America/New_York",
            "quiet_hours": [22, 7],
        },
    ]
    return make_brand(recipients=recipients, alerting=alerting or {})


def sent(dispatches, state, now):  # type: ignore[no-untyped-def]
    for d in dispatches:
        record_sent(state, d, now)
    return sorted((d.recipient.name, d.kind.value, d.step) for d in dispatches)


def test_open_reaches_first_rung_once_and_ladder_climbs_when_unacknowledged() -> None:
    b, state = brand(), AlertState(incident=make_incident(opened_at=T0))
    assert sent(on_transition(state, "open", b, T0), state, T0) == [
        ("Night owl", "open", "open"),
        ("On-call", "open", "open"),
    ]
    assert on_tick(state, b, T0 + timedelta(minutes=10)) == []
    ladder = on_tick(state, b, T0 + timedelta(minutes=31))
    assert [(d.recipient.name, d.note) for d in ladder] == [("Lead", "unacknowledged for 31 min")]


def test_acknowledging_stops_reminders_and_the_ladder_but_not_news() -> None:
    b, state = brand(), AlertState(incident=make_incident(opened_at=T0))
    sent(on_transition(state, "open", b, T0), state, T0)
    state.acked_at, state.acked_by = T0 + timedelta(minutes=5), "On-call"
    notes = on_tick(state, b, T0 + timedelta(minutes=10))  # the others told hear who took it, once
    assert [(d.recipient.name, d.kind, d.note) for d in notes] == [("Night owl", AlertKind.TAKEN, "taken by On-call")]
    assert on_tick(state, b, T0 + timedelta(hours=3)) == []
    state.incident = make_incident(opened_at=T0, severity=4)
    names = sent(on_transition(state, "escalate", b, T0 + timedelta(hours=3)), state, T0)
    assert ("On-call", "escalate", "sev4") in names and ("Night owl", "escalate", "sev4") in names
    assert {n for n, _, _ in names} == {"On-call", "Night owl"}  # the ladder stays on its first rung once acked


ONE_RUNG = [{"role": "pr_oncall", "after_minutes": 0}]  # nobody above the on-call: they keep being reminded


def test_reminders_back_off_with_distinct_steps_and_snooze_pauses_them() -> None:
    b, state = brand(reminder_minutes=60, escalation=ONE_RUNG), AlertState(incident=make_incident(opened_at=T0))
    sent(on_transition(state, "open", b, T0), state, T0)
    first = [d for d in on_tick(state, b, T0 + timedelta(minutes=61)) if d.kind is AlertKind.REMINDER]
    assert {d.step for d in first} == {"reminder-20261120T1405"}
    sent(first, state, T0 + timedelta(minutes=61))
    state.snoozed_until = T0 + timedelta(hours=3)
    assert on_tick(state, b, T0 + timedelta(minutes=125)) == []
    assert [d for d in on_tick(state, b, T0 + timedelta(minutes=180)) if d.kind is AlertKind.REMINDER] == []
    later = [d for d in on_tick(state, b, T0 + timedelta(minutes=185)) if d.kind is AlertKind.REMINDER]
    assert {d.step for d in later} == {"reminder-20261120T1506"}  # 2 h after the first reminder


def test_an_unacknowledged_day_long_crisis_reminds_each_person_at_1_2_4_8_hours_not_every_hour() -> None:
    """Before, the US Airways meltdown replay sent one recipient 19 reminders (one an hour, all night)."""
    b, state = brand(reminder_minutes=60, escalation=ONE_RUNG), AlertState(incident=make_incident(opened_at=T0))
    sent(on_transition(state, "open", b, T0), state, T0)
    times = []
    for step in range(1, 19 * 12):  # ticks every 5 minutes for 19 hours
        now = T0 + timedelta(minutes=5 * step)
        due = [d for d in on_tick(state, b, now) if d.kind is AlertKind.REMINDER and d.recipient.name == "On-call"]
        if due:
            times.append((now - T0).total_seconds() / 3600)
        sent([d for d in on_tick(state, b, now) if d.kind is AlertKind.REMINDER], state, now)
    assert times == [1.0, 3.0, 7.0, 15.0]  # 1, 2, 4 and 8 hours after the last message
    assert state.told[next(iter(state.told))].reminders >= 4
    state.incident = make_incident(opened_at=T0, severity=4)  # news: the backoff starts again after it
    sent(on_transition(state, "escalate", b, T0 + timedelta(hours=19)), state, T0 + timedelta(hours=19))
    escalated = [t for t in state.told.values() if t.at == T0 + timedelta(hours=19)]
    assert escalated and all(t.reminders == 0 for t in escalated)


def test_an_unanswered_reminder_escalates_to_the_next_rung_instead_of_repeating() -> None:
    ladder = [{"role": "pr_oncall", "after_minutes": 0}, {"role": "comms_lead", "after_minutes": 240}]
    b, state = brand(reminder_minutes=60, escalation=ladder), AlertState(incident=make_incident(opened_at=T0))
    sent(on_transition(state, "open", b, T0), state, T0)
    messages: dict[str, list[tuple[float, str]]] = {}
    for step in range(1, 19 * 12):  # ticks every 5 minutes for 19 hours, nobody acknowledges
        now = T0 + timedelta(minutes=5 * step)
        due = on_tick(state, b, now)
        for d in due:
            messages.setdefault(d.recipient.name, []).append(((now - T0).total_seconds() / 3600, d.kind.value))
        sent(due, state, now)
    assert messages["On-call"] == [(1.0, "reminder")]  # reminded once, then the lead hears instead of a repeat
    assert messages["Lead"] == [
        (3.0, "open"),
        (4.0, "reminder"),
        (6.0, "reminder"),
        (10.0, "reminder"),
        (18.0, "reminder"),
    ]
    assert len(messages.get("Night owl", [])) <= 1  # the other on-call: once at most (not in their quiet hours)


def test_resolve_sends_all_clear_to_everyone_told() -> None:
    b, state = brand(), AlertState(incident=make_incident(opened_at=T0))
    sent(on_transition(state, "open", b, T0), state, T0)
    state.incident = make_incident(opened_at=T0, resolved_at=T0 + timedelta(hours=2))
    clear = on_transition(state, "resolve", b, T0 + timedelta(hours=2))
    assert sorted(d.recipient.name for d in clear) == ["Night owl", "On-call"]
    assert {d.kind for d in clear} == {AlertKind.RESOLVED} and state.resolved
    assert on_tick(state, b, T0 + timedelta(hours=5)) == []


def test_quiet_hours_hold_until_local_morning_except_severity_four() -> None:
    night = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 23:00 in New York
    b, state = brand(), AlertState(incident=make_incident(opened_at=night))
    owl = next(d for d in on_transition(state, "open", b, night) if d.recipient.name == "Night owl")
    assert owl.not_before == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 07:00 EST
    urgent = AlertState(incident=make_incident(opened_at=night, severity=4))
    assert all(d.not_before is None for d in on_transition(urgent, "open", b, night))


def test_an_escalation_soon_after_the_last_message_waits_for_the_gap() -> None:
    b, state = brand(), AlertState(incident=make_incident(opened_at=T0, severity=1))
    sent(on_transition(state, "open", b, T0), state, T0)
    state.incident = make_incident(opened_at=T0, severity=2)
    soon = {d.recipient.name: d.not_before for d in on_transition(state, "escalate", b, T0 + timedelta(minutes=5))}
    assert soon == {"On-call": T0 + timedelta(minutes=15), "Night owl": T0 + timedelta(minutes=15)}
    later = on_transition(state, "escalate", b, T0 + timedelta(minutes=20))
    assert [d.not_before for d in later] == [None, None]
    state.incident = make_incident(opened_at=T0, severity=4)  # urgent: at once
    assert {d.not_before for d in on_transition(state, "escalate", b, T0 + timedelta(minutes=5))} == {None}


def test_quiet_hours_end_is_dst_correct() -> None:
    owl = Recipient(
        name="o", channel="email", address="o@example.com", timezone="America/New_York", quiet_hours=(22, 7)
    )
    # the night clocks go back (1 Nov 2026): 07:00 EST is 12:00 UTC, not 11:00
    assert quiet_hours_end(owl, datetime(2026, 11, 1, 4, 0, tzinfo=UTC)) == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    # the night clocks go forward (8 Mar 2026): 07:00 EDT is 11:00 UTC
    assert quiet_hours_end(owl, datetime(2026, 3, 8, 5, 0, tzinfo=UTC)) == datetime(2026, 3, 8, 11, 0, tzinfo=UTC)
    assert quiet_hours_end(owl, datetime(2026, 3, 8, 15, 0, tzinfo=UTC)) is None


def test_summary_due_once_per_local_day_across_dst() -> None:
    ceo = Recipient(name="c", channel="sms", address="+14155550199", role="executive", timezone="Europe/London")
    assert ceo.daily_summary_at == time(8, 0)
    assert summary_due(ceo, datetime(2026, 7, 1, 7, 0, tzinfo=UTC)) == date(2026, 7, 1)  # 08:00 BST
    assert summary_due(ceo, datetime(2026, 7, 1, 6, 55, tzinfo=UTC)) is None
    assert summary_due(ceo, datetime(2026, 12, 1, 8, 0, tzinfo=UTC)) == date(2026, 12, 1)  # 08:00 GMT
    assert summary_due(ceo, datetime(2026, 12, 1, 11, 30, tzinfo=UTC)) is None  # too late: skipped, not stale
    assert Recipient(name="p", channel="sms", address="+14155550100").daily_summary_at is None


def test_brand_day_and_summary_sms_fit_one_segment() -> None:
    now = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=now - timedelta(minutes=5 * (i + 1)), total=4 if i < 288 else 3, negative=1)
        for i in range(288 * 8)
    ]
    day = brand_day("Acme Air", buckets, [make_incident(opened_at=now - timedelta(hours=5))], now)
    assert day.mentions == 4 * 288 and round(day.change or 0, 2) == 0.33 and day.opened == 1 and day.ongoing == 1
    quiet = BrandDay("Beta Foods", 310, 326.0, 0.12, 0, 0, 0, None)
    text = summary_text([quiet, day], date(2026, 11, 21))
    assert text.startswith("Groundswell daily Sat 21 Nov: Acme Air") and segments(text) == 1
    assert gsm_units(text) is not None and "Beta Foods" in text
    many = [BrandDay(f"Brand number {i}", 1000 + i, 900.0, 0.2, 1, 1, 0, make_incident()) for i in range(9)]
    assert segments(summary_text(many, date(2026, 11, 21))) <= 2


def test_the_summary_tells_which_incidents_someone_called_not_a_crisis() -> None:
    now = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=now - timedelta(minutes=5 * (i + 1)), total=4, negative=1) for i in range(288)
    ]
    false_alarm = make_incident(id="acme-air:1", opened_at=now - timedelta(hours=5), severity=3)
    real = make_incident(id="acme-air:2", opened_at=now - timedelta(hours=2), severity=2)
    day = brand_day("Acme Air", buckets, [false_alarm, real], now, {"acme-air:1": "not a crisis per Dana"})
    assert day.dismissed == 1 and day.biggest is not None and day.biggest.id == "acme-air:2"
    alone = brand_day("Acme Air", buckets, [false_alarm], now, {"acme-air:1": "not a crisis per Dana"})
    text = summary_text([alone], date(2026, 11, 21))
    assert "1 not a crisis" in text and "(not a crisis per Dana)" in text and segments(text) <= 2


def test_one_message_carries_each_incident_once_in_its_latest_state() -> None:
    from groundswell.domain.alerting.lifecycle import Dispatch, latest_per_incident

    owl = brand().recipients[3]
    held = [
        Dispatch(owl, "a:1", AlertKind.OPEN, "open"),
        Dispatch(owl, "b:2", AlertKind.OPEN, "open"),
        Dispatch(owl, "a:1", AlertKind.RESOLVED, "resolved"),
        Dispatch(owl, "b:2", AlertKind.ESCALATE, "sev3"),
    ]
    assert [(d.incident_id, d.kind) for d in latest_per_incident(held)] == [
        ("a:1", AlertKind.RESOLVED),
        ("b:2", AlertKind.ESCALATE),
    ]


def test_a_state_rebuilt_from_the_messages_sent_escalates_to_those_told() -> None:
    from groundswell.domain.alerting.lifecycle import rebuilt_state

    b = brand()
    oncall, lead = (r.key for r in b.recipients[:2])
    state = rebuilt_state(make_incident(severity=4), [("open", oncall), ("sev3", lead), ("reminder1", oncall)])
    assert {k: t.severity for k, t in state.told.items()} == {oncall: 1, lead: 3}
    assert sent(on_transition(state, "escalate", b, T0), state, T0) == [  # and the never told hear it opened
        ("Lead", "escalate", "sev4"),
        ("Night owl", "open", "open"),
        ("On-call", "escalate", "sev4"),
    ]


def test_who_took_it_reaches_no_pager_and_waits_for_no_one_in_quiet_hours() -> None:
    from groundswell.domain.alerting.lifecycle import Verdict, taken_notes

    b, state = brand(), AlertState(incident=make_incident(opened_at=T0))
    sent(on_transition(state, "open", b, T0), state, T0)
    state.acked_by, state.acked_at = "Night owl", T0
    state.verdict = Verdict(call="not a crisis", by="Night owl", at=T0)
    notes = taken_notes(state, b, T0 + timedelta(minutes=5))
    assert [(d.recipient.name, d.note) for d in notes] == [("On-call", "not a crisis, says Night owl")]
    assert state.taken_told
    resolved = AlertState(incident=make_incident(opened_at=T0), resolved=True, acked_by="On-call")
    assert taken_notes(resolved, b, T0) == []  # after the all clear, nobody needs to hear who took it


def attention_notice(**overrides: object):  # type: ignore[no-untyped-def]
    fields = {
        "id": "acme-air:20261120T1405:attention",
        "kind": "attention",
        "severity": 1,
        "observed": 109,
        "expected": 26.2,
        "window_minutes": 85,
        "drivers": ("fleek", "fleet"),
        "opened_at": T0,
    }
    return make_incident(**{**fields, **overrides})


def test_an_attention_notice_goes_once_to_email_and_chat_and_never_pages() -> None:
    slack = {"name": "War room", "channel": "webhook", "address": "https://hooks.slack.com/services/T/B/x"}
    pager = {"name": "Pager", "channel": "pagerduty", "address": "a" * 32}
    b = brand()
    b = make_brand(recipients=[*(r.model_dump() for r in b.recipients), slack, pager])
    state = AlertState(incident=attention_notice())
    assert sent(on_transition(state, "open", b, T0), state, T0) == [
        ("Lead", "attention", "attention"),  # every rung on email or chat: it is news, not a page
        ("Night owl", "attention", "attention"),
        ("War room", "attention", "attention"),
    ]
    for hours in (1, 3, 8):  # no ladder, no reminders
        assert on_tick(state, b, T0 + timedelta(hours=hours)) == []
    state.acked_by = "Lead"
    assert on_tick(state, b, T0 + timedelta(hours=9)) == []  # no "taken" notes either
    assert on_transition(state, "resolve", b, T0 + timedelta(hours=10)) == [] and state.resolved


def test_an_attention_notice_waits_for_quiet_hours_to_end() -> None:
    night = datetime(2026, 11, 21, 4, 0, tzinfo=UTC)  # 23:00 in New York
    state = AlertState(incident=attention_notice(opened_at=night))
    held = {d.recipient.name: d.not_before for d in on_transition(state, "open", brand(), night)}
    assert held["Lead"] is None and held["Night owl"] == datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_the_summary_reports_attention_notices_apart_from_incidents() -> None:
    now = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=now - timedelta(minutes=5 * (i + 1)), total=4, negative=1) for i in range(288)
    ]
    noticed = attention_notice(opened_at=now - timedelta(hours=3), resolved_at=now - timedelta(hours=1))
    day = brand_day("Acme Air", buckets, [noticed], now)
    assert day.biggest is None and day.opened == 0 and day.attention == 1
    text = summary_text([day], date(2026, 11, 21))
    assert "attention 4x fleek" in text and "SEV" not in text and "calm" not in text
    turned = attention_notice(opened_at=now - timedelta(hours=3), became="acme-air:20261121T1000")
    crisis = make_incident(opened_at=now - timedelta(hours=2), attention_from=now - timedelta(hours=3))
    both = brand_day("Acme Air", buckets, [turned, crisis], now)
    assert both.attention == 0 and both.biggest is not None and both.opened == 1  # the crisis carries it on


def test_an_attention_notice_carried_by_a_few_accounts_is_told_only_once_a_crowd_joins() -> None:
    b, state = brand(), AlertState(incident=attention_notice(authors=3))  # one bot, two friends: not attention
    assert on_transition(state, "open", b, T0) == []
    state.incident = attention_notice(authors=40, observed=180)  # a later peak, now a crowd
    assert sent(on_transition(state, "update", b, T0 + timedelta(minutes=30)), state, T0) == [
        ("Lead", "attention", "attention"),
        ("Night owl", "attention", "attention"),
    ]
    assert on_transition(state, "update", b, T0 + timedelta(hours=1)) == []  # once
    now = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
    buckets = [Bucket(brand="acme-air", start=now - timedelta(minutes=5 * (i + 1)), total=4) for i in range(288)]
    few = attention_notice(opened_at=now - timedelta(hours=3), authors=3)
    assert brand_day("Acme Air", buckets, [few], now).attention == 0  # not in the summary either
