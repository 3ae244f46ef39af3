"""Response headers that keep pages to what they are meant to do, and the
answer a request gets when the database is too busy."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .db import is_database_busy
from .views import database_busy

logger = logging.getLogger("meet.busy")


class ContentSecurityPolicyMiddleware:
    """Send ``CONTENT_SECURITY_POLICY`` and ``PERMISSIONS_POLICY`` on every response.

    No page has an inline script or style, so the policy can forbid both:
    markup injected into a page (say, through a chat message rendered wrongly)
    could not run. Camera, microphone and screen capture are for this origin
    only, and nothing else a page could ask the browser for is allowed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class DatabaseBusyMiddleware:
    """A view that met a busy database (``meet.db.is_database_busy``) answers
    with the "busy, try again" page (503) instead of a server error.

    Last in ``MIDDLEWARE`` so it sees the view's exception first. The view's
    transactions were rolled back, so nothing it meant to change was changed
    and its form can be sent again as it was.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_busy(exception):
            return None
        logger.warning("database busy: %s %s (%s)", request.method, request.path, exception)
        return database_busy(request, nothing_saved=True)
