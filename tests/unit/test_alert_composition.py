"""SMS and email composition: GSM-7, segments, golden texts, escaping of attacker-controlled post text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.domain.alerting import links
from groundswell.domain.alerting.email import compose, safe_link, safe_text, subject
from groundswell.domain.alerting.gsm import gsm_units, segments, to_gsm
from groundswell.domain.alerting.notices import AlertKind, Facts, Notice, window_label
from groundswell.domain.alerting.samples import choose_samples
from groundswell.domain.alerting.sms import grouped_text, incident_text
from groundswell.domain.models import Mention, Sentiment
from tests.conftest import golden, make_incident

LINK = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/a/Xk3f9QpLAbCdEfGhIjKl"
T0 = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)


def notice(kind: AlertKind = AlertKind.OPEN, **incident: object) -> Notice:
    return Notice(kind=kind, incident=make_incident(**incident), brand_label="Acme Air")


def mention(i: int, text: str, author: str | None = None, likes: int = 0, url: str | None = None) -> Mention:
    return Mention(
        source="bluesky",
        id=f"p{i}",
        brand="acme-air",
        text=text,
        author=author or f"user{i}",
        created_at=T0 + timedelta(minutes=i),
        likes=likes,
        url=url or f"https://bsky.app/p/{i}",
        sentiment=Sentiment.NEGATIVE,
    )


# ---------------------------------------------------------------- GSM-7


def test_segments_follow_gsm_and_ucs2_limits() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("a" * 306) == 2
    assert segments("a" * 307) == 3
    assert segments("{" * 80) == 1 and segments("{" * 81) == 2  # extension characters take two septets
    assert segments("é" * 160) == 1  # é is in the GSM basic set
    assert segments("a" * 69 + "😡") == 2 and segments("a" * 68 + "😡") == 1  # UCS-2; an emoji is 2 code units


def test_to_gsm_transliterates_and_drops_tricks() -> None:
    assert to_gsm("“Delayed” — again… naïve") == '"Delayed" - again... naive'
    assert to_gsm("ok\u202eevil\u200b zero-width") == "okevil zero-width"  # bidi override, zero-width space
    assert to_gsm("line\r\nbreak\tand emoji 😡") == "line break and emoji"
    assert gsm_units(to_gsm("北京 Straße ✈️")) is not None


@given(st.text(max_size=400))
def test_to_gsm_output_is_always_gsm(text: str) -> None:
    assert gsm_units(to_gsm(text)) is not None


# ---------------------------------------------------------------- SMS


@pytest.mark.parametrize("kind", list(AlertKind))
def test_incident_sms_is_one_gsm_segment(kind: AlertKind) -> None:
    resolved = {"resolved_at": T0 + timedelta(hours=3)} if kind is AlertKind.RESOLVED else {}
    text = incident_text(notice(kind, **resolved), LINK, "America/New_York")
    assert gsm_units(text) is not None and segments(text) == 1 and len(text) <= 160
    assert LINK in text
    golden(f"sms_{kind.value}.txt", text)


def test_a_sustained_shifts_long_window_is_labelled_and_fits_one_segment() -> None:
    assert [window_label(m) for m in (15, 120, 635)] == ["15m", "2h", "10h35m"]
    text = incident_text(notice(window_minutes=635, observed=12345, expected=6789.5), LINK, "America/New_York")
    assert "12345 neg/10h35m" in text and segments(text) == 1 and len(text) <= 160


def test_sms_with_a_short_link_says_what_it_is_about() -> None:
    text = incident_text(notice(), "https://gs.example/a/Xk3f9QpLAbCdEfGhIjKl", "America/New_York")
    assert "About: outage, refund" in text and "84 negative posts in 15m" in text
    golden("sms_open_short_link.txt", text)


def test_the_first_sms_says_what_it_is_about_before_when_it_started() -> None:
    """The demo's first SMS: before, "126 negative posts in 2h, 3x normal, since 11:00 EST" took the room and
    only reminders said what the crisis was about. Now "since" and the long numbers give way to "About"."""
    link = "https://ack.groundswell.localhost/a/t82zW2hpbYuVGzF0vgSh"
    about = notice(window_minutes=120, observed=126, expected=42.0, drivers=("outage", "system", "stranded"))
    text = incident_text(about, link, "America/New_York")
    assert text == (
        f"Groundswell SEV3 Acme Air: 126 negative posts in 2h, 3x normal. About: outage, system, stranded. Ack: {link}"
    )
    assert segments(text) == 1


def test_sms_parts_are_dropped_in_the_documented_order() -> None:
    """since -> the long numbers -> "About" (down to the top driver) -> "Ack:"; never the link."""
    texts = [
        incident_text(notice(drivers=("outage", "refund", "app")), "https://gs.example/a/" + "x" * n, "UTC")
        for n in (5, 40, 55, 70, 95)
    ]
    assert "since" in texts[0] and "About" in texts[0]
    assert "since" not in texts[1] and "negative posts" in texts[1] and "About" in texts[1]
    assert "neg/15m" in texts[2] and "About" in texts[2]
    assert "About" not in texts[3] and ", outage." in texts[3] and "Ack:" in texts[3]
    assert "Ack:" not in texts[4] and "neg/15m" in texts[4]
    assert all(t.endswith("x" * n) for t, n in zip(texts, (5, 40, 55, 70, 95), strict=True))
    assert all(segments(t) == 1 for t in texts)


def test_sms_of_hostile_brand_text_and_drivers_stays_gsm_and_bounded() -> None:
    hostile = Notice(
        kind=AlertKind.OPEN,
        brand_label="Acme 😡\u202e" + "x" * 200,
        incident=make_incident(drivers=("💥💥", "\u202egnp.exe", "<script>" * 20)),
    )
    text = incident_text(hostile, LINK, "UTC")
    assert gsm_units(text) is not None and segments(text) <= 2 and LINK in text


def test_grouped_sms_lists_brands_in_one_message() -> None:
    worse = make_incident(id="beta:1", brand="beta", severity=4, observed=300, expected=10)
    second = Notice(kind=AlertKind.ESCALATE, brand_label="Beta Foods", incident=worse)
    text = grouped_text([notice(), second], "https://gs.example/a/Xk3f9QpLAbCdEfGhIjKl", "Europe/London")
    assert segments(text) == 1 and "Acme Air" in text and "Beta Foods" in text
    golden("sms_grouped.txt", text)


# ---------------------------------------------------------------- email


def email_notice() -> Notice:
    samples = [
        mention(
            1,
            "Flight cancelled <script>alert('x')</script> and no refund",
            likes=40,
            url="javascript:alert(document.cookie)",
        ),
        mention(2, "Acme Air app outage AGAIN, can't check in", likes=12),
        mention(3, "Acme Air app outage AGAIN, can't check in!!", likes=11),  # near-duplicate of 2
        mention(4, "Refund denied after the outage \u202egnp.exe", author="user1"),  # same author as 1
        mention(5, 'Quote "test" & <b>bold</b>', likes=3),
    ]
    chosen = choose_samples(samples, ["outage", "refund"])
    return Notice(
        kind=AlertKind.OPEN,
        incident=make_incident(),
        brand_label="Acme <Air>",
        samples=tuple(chosen),
        facts=Facts(negative_share=0.62, usual_share=0.21, growth=3.1, last_hour_negative=150),
    )


def test_samples_are_diverse_relevant_and_engaged() -> None:
    chosen = email_notice().samples
    authors = [m.author for m in chosen]
    assert len(authors) == len(set(authors))
    texts = [m.text for m in chosen]
    assert not (
        "Acme Air app outage AGAIN, can't check in" in texts and "Acme Air app outage AGAIN, can't check in!!" in texts
    )
    assert chosen[0].id == "p1"  # a driver term and the most engagement


def test_email_escapes_post_text_and_keeps_only_http_links() -> None:
    email = compose(
        [email_notice()],
        links={"acme-air:20261120T1405": LINK},
        timezone="America/New_York",
        charts={"acme-air:20261120T1405": b"\x89PNG"},
        reason="You are PR on-call.",
    )
    assert "<script>" not in email.html and "&lt;script&gt;" in email.html
    assert "javascript:" not in email.html and "Acme &lt;Air&gt;" in email.html
    assert "\u202e" not in email.html and "\u202e" not in email.text
    assert 'src="cid:chart-0@groundswell"' in email.html
    golden("email_open.txt", email.text)
    golden("email_open.html", email.html)


def test_email_mime_has_text_html_and_inline_chart() -> None:
    email = compose([email_notice()], links={}, timezone="UTC", charts={"acme-air:20261120T1405": b"\x89PNG\r\n"})
    message = email.mime(sender="alerts@example.com", to="pr@example.com")
    types = [part.get_content_type() for part in message.walk()]
    assert types == ["multipart/alternative", "text/plain", "multipart/related", "text/html", "image/png"]
    assert [p["Content-ID"] for p in message.walk() if p.get_content_type() == "image/png"] == ["<chart-0@groundswell>"]


def test_subject_is_one_bounded_line_even_with_header_injection() -> None:
    evil = Notice(
        kind=AlertKind.OPEN,
        brand_label="Acme\r\nBcc: victim@example.com",
        incident=make_incident(drivers=("x\nSubject: spoof", "y" * 300)),
    )
    line = subject([evil])
    assert "\n" not in line and "\r" not in line and len(line) <= 140
    message = compose([evil], links={}, timezone="UTC").mime(sender="a@example.com", to="b@example.com")
    assert message["Bcc"] is None and "\n" not in str(message["Subject"])


def test_safe_helpers() -> None:
    assert safe_link("javascript:alert(1)") is None and safe_link("data:text/html,x") is None
    assert safe_link("/relative") is None and safe_link("https://ok.example/p") == "https://ok.example/p"
    assert safe_text("a" * 500, 10) == "a" * 9 + "…"


# ---------------------------------------------------------------- links


def test_links_verify_and_reject_tampering_and_expiry() -> None:
    key = b"k" * 32
    record = links.LinkRecord(
        recipient="sms-1",
        recipient_name="Dana",
        incidents=("acme-air:1",),
        brands=("acme-air",),
        expires_at=T0 + timedelta(days=3),
    )
    link_id, token = links.new_token(key, record)
    assert len(token) == 20 and token.startswith(link_id)
    assert links.verify(key, token, record, T0).ok
    assert not links.verify(b"other" * 8, token, record, T0).ok
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert not links.verify(key, tampered, record, T0).ok
    widened = record.model_copy(update={"incidents": ("acme-air:1", "beta:2")})
    assert not links.verify(key, token, widened, T0).ok  # a changed record no longer matches
    assert "expired" in links.verify(key, token, record, T0 + timedelta(days=4)).reason
    assert not links.verify(key, "../../etc/passwd", record, T0).ok
    assert links.verify((b"rotated" * 8, key), token, record, T0).ok  # the previous key, during its grace
    assert not links.verify((b"rotated" * 8,), token, record, T0).ok


def test_alerts_preview_writes_every_sms_and_the_email(tmp_path: Path) -> None:
    from infra.cli import main

    assert main(["alerts", "preview", "--output", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "attention-email.html",
        "chart.png",
        "email.eml",
        "email.html",
        "sms-escalate.txt",
        "sms-open.txt",
        "sms-reminder.txt",
        "sms-resolved.txt",
        "sms-taken.txt",
    ]
    first_line = (tmp_path / "sms-open.txt").read_text().splitlines()[0]
    assert segments(first_line) == 1 and (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")


def test_facts_are_the_counts_as_of_sending_against_the_same_hours_of_the_days_before() -> None:
    from groundswell.domain.alerting.notices import facts
    from groundswell.domain.models import Bucket

    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=end - timedelta(days=d, minutes=5 * k), total=10, negative=n, neutral=10 - n)
        for d, n in ((0, 3), (1, 1), (2, 2))
        for k in range(1, 25)  # the two hours before ``end``, today and the two days before
    ]
    now = facts(buckets, end)
    assert (now.recent_negative, now.recent_usual, now.as_of) == (72, 36.0, end)
    assert now.negative_share == 0.3 and now.recent_ratio == 2.0


def test_a_reminder_says_how_it_stands_now_and_an_all_clear_how_long_it_lasted() -> None:
    from groundswell.domain.alerting.notices import Facts

    link = "https://gs.example/a/Xk3f9QpLAbCdEfGhIjKl"
    later = Facts(recent_negative=9, recent_usual=7.0, as_of=T0 + timedelta(hours=5))
    reminder = incident_text(notice(AlertKind.REMINDER).model_copy(update={"facts": later}), link, "UTC")
    assert "now 9 neg/2h (84/15m at 14:25). About: outage" in reminder and segments(reminder) == 1
    resolved = notice(AlertKind.RESOLVED, resolved_at=T0 + timedelta(hours=2, minutes=30))
    text = incident_text(resolved.model_copy(update={"facts": later}), link, "UTC")
    assert "lasted 2h30m, peak 84 neg/15m 9x; now 9/2h" in text and segments(text) == 1


def test_since_is_when_the_swell_began_not_when_the_incident_opened() -> None:
    """Before, "since 11:00" was the opening while the 2-hour window that fired had started rising at 09:05."""
    began = notice(window_minutes=120, observed=126, expected=42.0, started_at=T0 - timedelta(minutes=115))
    text = incident_text(began, "https://gs.example/a/x", "UTC")
    assert "since 12:10 UTC" in text and "14:05" not in text


def test_the_chart_draws_the_hour_in_progress_as_partial_not_as_a_drop() -> None:
    """Before, a chart drawn at 14:25 for an incident peaking at 14:20 ran to 15:00: its last hour held 25
    minutes of a growing swell and read as a drop."""
    from groundswell.domain.alerting.chart import hourly_series, render_png
    from groundswell.domain.models import Bucket

    now = datetime(2026, 11, 20, 14, 25, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=now - timedelta(minutes=5 * k), total=40, negative=30 if k < 12 else 2)
        for k in range(1, 24 * 12)
    ]
    series = hourly_series(buckets, now)
    assert series.hours[-1] == datetime(2026, 11, 20, 14, tzinfo=UTC) and series.partial_minutes == 25
    assert series.negative[-1] == 150 and series.negative[-2] == 30 * 6 + 2 * 6  # 13:00-14:00, complete
    on_the_hour = hourly_series(buckets, datetime(2026, 11, 20, 14, tzinfo=UTC))
    assert on_the_hour.partial_minutes == 0 and on_the_hour.hours[-1] == datetime(2026, 11, 20, 13, tzinfo=UTC)
    assert render_png(series, title="Acme Air", timezone="UTC").startswith(b"\x89PNG")


def test_a_taken_note_says_who_took_it_and_offers_no_acknowledgement() -> None:
    taken = email_notice().model_copy(update={"kind": AlertKind.TAKEN, "note": "taken by Dana"})
    email = compose([taken], links={taken.incident.id: LINK}, timezone="America/New_York")
    assert subject([taken]) == "[SEV3] Acme <Air>: taken by Dana"
    assert "View incident" in email.text and "Acknowledge or snooze" not in email.text
    text = incident_text(taken, LINK, "America/New_York")
    assert text == f"Groundswell SEV3 Acme <Air>: taken by Dana. Nothing to do. Details: {LINK}"


def test_an_attention_email_says_posts_not_negatives_and_offers_no_acknowledge() -> None:
    noticed = make_incident(
        id="acme-air:20261120T1405:attention",
        kind="attention",
        severity=1,
        observed=109,
        expected=26.2,
        window_minutes=85,
        drivers=("fleek", "fleet"),
    )
    notice = Notice(
        kind=AlertKind.ATTENTION,
        incident=noticed,
        brand_label="Acme Air",
        facts=Facts(negative_share=0.26, usual_share=0.6, growth=3.0, recent_negative=30, recent_usual=20.0),
    )
    email = compose([notice], links={noticed.id: LINK}, timezone="UTC")
    assert email.subject == "[Attention] Acme Air: 109 posts in 1h25m, 4x usual, 26% negative (fleek, fleet)"
    text = email.text
    assert text.startswith("UNUSUAL ATTENTION\nAcme Air (a notice, not a page")
    assert "All posts: 109 in 1h25m (expected 26.2, 4.2x)" in text and "Negative posts" not in text
    assert "Negative share, last hour: 26% (usually 60%)" in text and "Growth" not in text
    assert "Right now: 260 in the last 2h (3.6x expected)" in text  # all posts, not the facts' negatives
    assert "severity" not in text.lower() and "Acknowledge" not in text and f"View incident: {LINK}" in text


def test_a_crisis_that_began_as_attention_says_so() -> None:
    began = datetime(2026, 11, 20, 13, 40, tzinfo=UTC)
    notice = Notice(kind=AlertKind.OPEN, incident=make_incident(attention_from=began), brand_label="Acme Air")
    text = compose([notice], links={}, timezone="UTC").text
    assert "Began as: unusual attention at Fri 13:40 UTC" in text


def test_an_alert_shows_the_brands_share_of_its_peers_negative_posts() -> None:
    from groundswell.domain.alerting.notices import facts, with_peers
    from groundswell.domain.models import Bucket

    end = datetime(2026, 11, 20, 12, tzinfo=UTC)

    def buckets(brand: str, now: int, usual: int) -> list[Bucket]:
        return [
            Bucket(brand=brand, start=end - timedelta(minutes=5 * (i + 1)), negative=now if i < 12 else usual)
            for i in range(288 * 8)
        ]

    own = buckets("acme-air", 3, 1)
    peers = [buckets("beta-air", 2, 2), buckets("gamma-air", 1, 3), buckets("delta-air", 3, 1)]
    found = with_peers(facts(own, end), own, peers, end)
    assert (found.peers, found.peer_share, found.peer_usual) == (3, 3 / 9, 1 / 7)
    notice = Notice(kind=AlertKind.OPEN, incident=make_incident(), brand_label="Acme Air", facts=found)
    text = compose([notice], links={}, timezone="UTC").text
    assert "Share among peers: 33% of the negative posts about it and 3 peers, last hour (usually 14%)" in text
    assert with_peers(facts(own, end), own, [], end).peer_share is None  # no peers: no row


def test_a_brands_peers_are_other_brands_each_once() -> None:
    from pydantic import ValidationError

    from tests.conftest import make_brand

    assert make_brand(peers=["beta-air", "gamma-air"]).peers == ["beta-air", "gamma-air"]
    for wrong in (["acme-air"], ["beta-air", "beta-air"], ["Not A Slug"], [f"b{i}" for i in range(11)]):
        with pytest.raises(ValidationError):
            make_brand(peers=wrong)


def test_an_attention_notices_chart_counts_all_mentions_and_says_so() -> None:
    from groundswell.domain.alerting.chart import hourly_series
    from groundswell.domain.models import Bucket

    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=now - timedelta(minutes=5 * (i + 1)), total=10, negative=2) for i in range(24)
    ]
    negatives, every = hourly_series(buckets, now), hourly_series(buckets, now, every_mention=True)
    assert negatives.negative[-2:] == [24, 24] and negatives.counted == "negative mentions"
    assert every.negative[-2:] == [120, 120] and every.counted == "all mentions"


def test_a_held_attention_notice_says_how_many_posts_there_are_when_it_is_sent() -> None:
    """Held through quiet hours, it is sent hours after its transition: "right now" counts all mentions as of
    sending (the detector's numbers are only the fallback)."""
    from groundswell.domain.alerting.notices import facts
    from groundswell.domain.models import Bucket

    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    buckets = [
        Bucket(brand="acme-air", start=end - timedelta(minutes=5 * (i + 1)), total=30 if i < 24 else 10, negative=2)
        for i in range(288 * 3)
    ]
    now = facts(buckets, end)
    assert (now.recent_total, now.recent_total_usual) == (720, 240.0)
    noticed = make_incident(id="acme-air:x:attention", kind="attention", severity=1)
    notice = Notice(kind=AlertKind.ATTENTION, incident=noticed, brand_label="Acme Air", facts=now)
    text = compose([notice], links={}, timezone="UTC").text
    assert "Right now: 720 in the last 2h to 12:00 UTC (3.0x the usual 240)" in text
