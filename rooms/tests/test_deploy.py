"""Production settings pass Django's deployment checks."""

import os
import secrets
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "meet.settings",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "meet.example.com",
}


def run_check(**overrides: str) -> subprocess.CompletedProcess:
    # A clean environment: the test settings' relaxed security variables must
    # not leak into the child process.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "SECRET_KEY": secrets.token_urlsafe(50),
        **PRODUCTION_ENV,
        **overrides,
    }
    code = (
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', '--deploy', fail_level='WARNING')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_silent_with_production_settings():
    result = run_check()
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_catches_an_insecure_override():
    """The check really runs with these settings: turning HSTS off is reported."""
    result = run_check(SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_check(SECRET_KEY="")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr
