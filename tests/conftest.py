"""Shared test setup: the on-disk cache (relaynet.cache) goes to a temporary folder, never
to the user's cache; property tests draw the same examples on every run (``make test`` and
CI are reproducible) unless ``RELAYNET_HYPOTHESIS=explore`` asks for fresh random ones."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("RELAYNET_HYPOTHESIS", "repeatable"))


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RELAYNET_CACHE_DIR", str(tmp_path_factory.mktemp("relaynet_cache")))
        yield
