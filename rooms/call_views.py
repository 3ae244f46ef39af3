"""The one JSON endpoint the call page uses: the invite link to copy from a call."""

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
# Pressing "copy" again gives the same link while it still works this long,
# so one call does not pile up a new link per press.
CALL_INVITE_REUSE_FOR = timedelta(hours=1)


@require_POST
@login_required
def call_invite(request: HttpRequest, slug: str) -> JsonResponse:
    """The caller's invite link for this room (hosts only): the one they
    copied before while it is still good, otherwise a new one (201). With
    ``guests=1`` the link also lets people without an account in (a link of
    its own: one without guests never turns into one with them)."""
    room = get_object_or_404(Room, slug=slug)
    try:
        invite, token, created = services.invite_get_or_create_for_call(
            room=room,
            created_by=cast(User, request.user),
            lifetime=CALL_INVITE_LIFETIME,
            reuse_for_at_least=CALL_INVITE_REUSE_FOR,
            allow_guests=request.POST.get("guests") == "1",
        )
    except PermissionDenied:
        return JsonResponse({"error": _("Only hosts can create invite links.")}, status=403)
    url = request.build_absolute_uri(reverse("rooms:invite_open", kwargs={"token": token}))
    return JsonResponse(
        {"url": url, "expires": invite.expires_at, "reused": not created},
        status=201 if created else 200,
    )
