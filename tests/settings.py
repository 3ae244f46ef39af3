"""Settings for the test suite: meet.settings with test-only defaults.

The browser and multi-process tests start daphne with these settings too, so
the test process and the servers share one database and one SECRET_KEY.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from meet.settings import *  # noqa: F403
from meet.settings import BASE_DIR, DATABASES

# A file, not :memory:, so daphne processes started by the tests see the same
# test database (pytest-django creates and destroys it).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    default_path = BASE_DIR / "test-artifacts" / "test.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_SQLITE_PATH", str(default_path))}
    (BASE_DIR / "test-artifacts").mkdir(exist_ok=True)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Serve static files straight from the source folders (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
