import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Hazard-field cache per test session, never the user's."""
    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def tiny():
    from fixtures import tiny_city

    return tiny_city()


@pytest.fixture
def tiny_twin(tiny):
    from twin.compile import compile_twin

    return compile_twin(tiny)
