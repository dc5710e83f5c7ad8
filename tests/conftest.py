"""Shared fixtures: paths to ../shared's recorded responses, brands, and a moto account built from template.yaml."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GROUNDSWELL_SHARED", ROOT.parent / "shared"))
API_SAMPLES = SHARED / "data" / "api_samples"
FIXTURES = Path(__file__).parent / "fixtures"


def recorded(relative: str) -> Any:
    """A recorded API response from ../shared/data/api_samples (skips if the folder is missing)."""
    path = API_SAMPLES / relative
    if not path.exists():
        pytest.skip(f"recorded sample not found: {path}")
    return json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else path.read_bytes()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_brand(**overrides: Any) -> Any:
    from groundswell.domain.models import Brand

    config: dict[str, Any] = {
        "name": "acme-air",
        "display_name": "Acme Air",
        "timezone": "America/New_York",
        "terms": {"keywords": ["acme air"], "handles": ["@acmeair"], "hashtags": ["acmeair"], "exclude": ["giveaway"]},
        "sources": [{"type": "hackernews"}],
    }
    config.update(overrides)
    return Brand.model_validate(config)


@pytest.fixture(autouse=True)
def _clean_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts without cached settings, clients or sources, and with dummy AWS credentials."""
    from groundswell import runtime
    from groundswell.adapters.aws import reset_clients
    from groundswell.config import settings

    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Groundswell")

    def clear() -> None:
        settings.cache_clear()
        reset_clients()
        for cached in (runtime.store, runtime.scorer, runtime.source, runtime.notifier):
            cached.cache_clear()

    clear()
    yield
    clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An in-process moto account with the template's table, queues and secrets; env wired as in Lambda."""
    import boto3
    from moto import mock_aws

    from infra.moto_patches import patch_moto_transactions
    from infra.template_resources import provision

    patch_moto_transactions()
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        resources = provision(session, prefix="test")
        for key, value in resources.environment().items():
            monkeypatch.setenv(key, value)
        yield resources, session


def make_incident(**overrides: Any) -> Any:
    """An incident as the detector publishes it (alerting's IncidentView)."""
    from datetime import UTC, datetime, timedelta

    from groundswell.domain.alerting.notices import IncidentView

    opened = datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    fields: dict[str, Any] = {
        "id": "acme-air:20261120T1405",
        "brand": "acme-air",
        "opened_at": opened,
        "severity": 3,
        "pvalue": 1e-9,
        "window_minutes": 15,
        "observed": 84,
        "expected": 9.2,
        "peak_at": opened + timedelta(minutes=20),
        "current_observed": 260,
        "current_expected": 72.0,
        "drivers": ("outage", "refund", "app"),
        "sources": (("bluesky", 0.6, 0.3),),
        "baseline_days": 21.4,
    }
    fields.update(overrides)
    return IncidentView.model_validate(fields)


def golden(name: str, text: str | bytes) -> None:
    """Compares ``text`` with tests/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = Path(__file__).parent / "golden" / name
    data = text.encode() if isinstance(text, str) else text
    if os.environ.get("UPDATE_GOLDEN") == "1" or not path.exists():
        if os.environ.get("CI") == "true" and not path.exists():
            raise AssertionError(f"golden file missing: {path}")
        path.write_bytes(data)
    assert data.decode() == path.read_bytes().decode(), f"{name} differs from its golden file"
