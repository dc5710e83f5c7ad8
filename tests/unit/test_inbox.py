"""The messages the demo and replay keep: written as their recipients see them, charts included."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from groundswell.domain.alerting.email import compose
from groundswell.domain.alerting.notices import AlertKind, Notice
from groundswell.usecases.messages import SentMessage
from infra.simulation import Inbox
from tests.conftest import make_incident

AT = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)


def test_the_html_copy_of_an_email_shows_its_charts_not_dead_cid_images(tmp_path: Path) -> None:
    """Before, the .html written beside the .eml pointed at cid:chart-0@groundswell, which no browser opens."""
    first, second = make_incident(), make_incident(id="beta:20261120T1405", brand="beta")
    notices = [Notice(kind=AlertKind.OPEN, incident=i, brand_label=i.brand) for i in (first, second)]
    email = compose(notices, links={}, timezone="UTC", charts={first.id: b"\x89PNG one", second.id: b"\x89PNG two"})
    raw = bytes(email.mime(sender="alerts@example.com", to="desk@example.com"))
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    inbox = Inbox(tmp_path)
    inbox.add(SentMessage("email", "d***@example.com", "open", (), AT, email.text, email=raw))
    html = (tmp_path / "001-20261120T1405-email-open.html").read_text()
    assert "cid:" not in html
    assert 'src="001-20261120T1405-email-open-chart.png"' in html
    assert 'src="001-20261120T1405-email-open-chart-1.png"' in html
    assert (tmp_path / "001-20261120T1405-email-open-chart-1.png").read_bytes() == b"\x89PNG two"
    Inbox(tmp_path)  # a second run clears the earlier run's messages, charts included, and nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
