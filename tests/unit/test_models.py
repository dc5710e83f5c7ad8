"""Brand and recipient validation: a bad config names the field and the problem."""

from __future__ import annotations

import pytest

from groundswell.domain.models import Brand, Recipient
from infra.brand_files import BrandConfigError, parse_brands
from tests.conftest import make_brand


def test_a_valid_brand_round_trips_through_json() -> None:
    brand = make_brand(sources=[{"type": "mastodon", "servers": ["https://mastodon.social"]}, {"type": "hackernews"}])
    assert Brand.model_validate_json(brand.model_dump_json()) == brand
    assert brand.terms.hashtags == ["acmeair"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Acme Air"}, "name"),
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"sources": []}, "sources"),
        ({"sources": [{"type": "hackernews"}, {"type": "hackernews"}]}, "repeated: hackernews"),
        ({"sources": [{"type": "carrier-pigeon"}]}, "carrier-pigeon"),
        ({"sources": [{"type": "mastodon", "servers": []}]}, "sources.0.mastodon.servers"),
        ({"terms": {"exclude": ["x"]}}, "at least one keyword"),
        ({"terms": {"hashtags": ["acme air"]}}, "may contain only letters"),
    ],
)
def test_a_bad_brand_is_rejected_with_the_field_named(change: dict, message: str) -> None:
    config = make_brand().model_dump(mode="json") | change
    with pytest.raises(BrandConfigError) as error:
        parse_brands(config, "brands.yaml")
    assert message in str(error.value)
    assert "brands.yaml" in str(error.value)


def test_recipients_need_addresses_that_fit_their_channel() -> None:
    Recipient(name="On call", channel="sms", address="+14155550100")
    Recipient(name="Lead", channel="email", address="lead@example.com")
    with pytest.raises(ValueError, match=r"E\.164"):
        Recipient(name="On call", channel="sms", address="415-555-0100")
    with pytest.raises(ValueError, match="not a valid email"):
        Recipient(name="Lead", channel="email", address="lead@@example")
    with pytest.raises(ValueError, match="https"):
        Recipient(name="Hook", channel="webhook", address="http://example.com/hook")
    with pytest.raises(ValueError, match="0-23"):
        Recipient(name="Lead", channel="email", address="lead@example.com", quiet_hours=(22, 24))


def test_repeated_brand_names_in_one_file_are_rejected() -> None:
    config = make_brand().model_dump(mode="json")
    with pytest.raises(BrandConfigError, match="repeated: acme-air"):
        parse_brands({"brands": [config, config]})


def test_a_brand_file_with_a_plain_http_feed_is_refused_with_a_clear_line() -> None:
    brand = {
        "name": "acme-air",
        "terms": {"keywords": ["acme"]},
        "sources": [{"type": "rss", "feeds": ["http://news.example/feed.xml"]}],
    }
    with pytest.raises(BrandConfigError, match=r"http://news\.example/feed\.xml is not https"):
        parse_brands(brand)
    brand["sources"] = [{"type": "rss", "feeds": ["https://news.example/feed.xml"]}]
    assert parse_brands(brand)[0].name == "acme-air"
