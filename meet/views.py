"""Site-wide error responses."""

from __future__ import annotations

import logging
import sys

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import loader
from django.views import defaults

from .db import is_database_busy

logger = logging.getLogger("meet.busy")

# Seconds a browser (or a client that honours Retry-After) should wait.
BUSY_RETRY_AFTER = 5


def _resendable(request: HttpRequest) -> list[tuple[str, str]]:
    """The form fields a "Try again" button may post again: everything but
    the CSRF token (a fresh one goes with it), files and sensitive fields
    (passwords are never written into a page; the form asks for them again)."""
    sensitive = getattr(request, "sensitive_post_parameters", ())
    if sensitive == "__ALL__":
        return []
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken" and name not in sensitive and "password" not in name
        for value in values
    ]


def database_busy(request: HttpRequest, *, nothing_saved: bool) -> HttpResponse:
    """The "busy, try again" page (503).

    ``nothing_saved`` says the failed request was rolled back as a whole, so
    its form may simply be sent again; otherwise (the view finished, and only
    saving the session failed) the page offers a plain reload instead.
    Rendered without context processors: it must not need the database.
    """
    resend = _resendable(request) if nothing_saved and request.method == "POST" else []
    context = {
        "nothing_saved": nothing_saved,
        "resend": resend,
        "retry_url": request.get_full_path(),
        "csrf_token": get_token(request) if resend else "",
    }
    if request.method == "POST" and not resend and nothing_saved:
        # A POST that cannot be replayed from here: a GET of the same address
        # shows its form again (pending invites wait in the session).
        context["retry_url"] = request.path
    response = HttpResponse(loader.render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a busy database met outside the view (saving the
    session, say) still gets the busy page, not the error page."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_busy(exc):
        return database_busy(request, nothing_saved=False)
    return defaults.server_error(request)
