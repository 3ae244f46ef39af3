import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """allauth's rate limits live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()
