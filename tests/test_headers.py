"""Security headers every page carries."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/no-such-page/"])
def test_pages_allow_only_their_own_scripts_and_styles(client, path):
    policy = client.get(path).headers["Content-Security-Policy"]
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_camera_microphone_and_screen_are_for_this_origin_only(client):
    policy = client.get("/").headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "display-capture"):
        assert f"{feature}=(self)" in policy
    assert "geolocation=()" in policy
