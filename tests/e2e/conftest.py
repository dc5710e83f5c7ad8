"""Headless Chromium for the e2e tests that render what people read (emails, the incident page)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("chromium is missing in CI: `make browser` installs it")
        pytest.skip("chromium not installed (make browser)")
    return CHROMIUM
