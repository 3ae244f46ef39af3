"""Response headers that keep pages to what they are meant to do."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
