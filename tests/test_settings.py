"""Project settings that matter once there are several server processes."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


def in_child(code: str, **env: str) -> str:
    """Run ``code`` in a fresh process configured only by environment variables."""
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "tests.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.redis
def test_processes_on_one_redis_share_the_cache_that_holds_login_rate_limits(redis_url):
    # allauth counts failed logins in the cache; each process must see the others' counts.
    in_child("from django.core.cache import cache; cache.set('attempts', 3)", REDIS_URL=redis_url)
    seen = in_child(
        "from django.core.cache import cache; print(cache.get('attempts'))", REDIS_URL=redis_url
    )
    assert seen == "3"


def test_without_redis_the_cache_is_the_process_own():
    backend = in_child("from django.conf import settings; print(settings.CACHES['default'])")
    assert "LocMemCache" in backend
