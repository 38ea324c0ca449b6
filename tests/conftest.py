"""Shared test setup: the on-disk cache (relaynet.cache) goes to a temporary folder, never
to the user's cache."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RELAYNET_CACHE_DIR", str(tmp_path_factory.mktemp("relaynet_cache")))
        yield
