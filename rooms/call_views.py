"""The one JSON endpoint the call page uses: mint an invite link from inside a call."""

from datetime import timedelta
from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User

from . import services
from .models import Room

# Links copied from a call are meant for "join us now": short-lived.
CALL_INVITE_LIFETIME = timedelta(hours=24)


@require_POST
@login_required
def call_invite(request: HttpRequest, slug: str) -> JsonResponse:
    """Create an invite (hosts only) and return its one-time-visible URL."""
    room = get_object_or_404(Room, slug=slug)
    try:
        invite, token = services.invite_create(
            room=room, created_by=cast(User, request.user), expires_in=CALL_INVITE_LIFETIME
        )
    except PermissionDenied:
        return JsonResponse({"error": _("Only hosts can create invite links.")}, status=403)
    url = request.build_absolute_uri(reverse("rooms:invite_open", kwargs={"token": token}))
    return JsonResponse({"url": url, "expires": invite.expires_at}, status=201)
