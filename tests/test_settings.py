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


def test_sqlite_is_set_up_for_a_server(tmp_path):
    # WAL (readers and the writer never wait for each other), NORMAL sync,
    # writers queue for the lock for SQLITE_BUSY_TIMEOUT instead of failing.
    code = (
        "from django.db import connection; cursor = connection.cursor();"
        "print(*(cursor.execute(f'PRAGMA {name}').fetchone()[0]"
        " for name in ('journal_mode', 'synchronous', 'busy_timeout')),"
        " connection.transaction_mode)"
    )
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    assert in_child(code, DATABASE_URL=url) == "wal 1 10000 IMMEDIATE"
    assert in_child(code, DATABASE_URL=url, SQLITE_BUSY_TIMEOUT="2.5") == "wal 1 2500 IMMEDIATE"


def test_origin_and_client_address_settings_come_from_the_environment():
    printed = in_child(
        "from django.conf import settings as s;"
        "print(s.WS_ALLOWED_ORIGINS, s.ALLAUTH_TRUSTED_PROXY_COUNT,"
        " s.ALLAUTH_TRUSTED_CLIENT_IP_HEADER, s.INVITE_GUESS_LIMIT, s.INVITE_GUESS_WINDOW)",
        WS_ALLOWED_ORIGINS="https://meet.example.com, http://localhost:8000",
        TRUSTED_PROXY_COUNT="1",
        TRUSTED_CLIENT_IP_HEADER="X-Real-IP",
        INVITE_GUESS_LIMIT="5",
        INVITE_GUESS_WINDOW="600",
    )
    assert printed == "['https://meet.example.com', 'http://localhost:8000'] 1 X-Real-IP 5 600"
