from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.models import User

from .callconfig import call_config
from .models import Room
from .selectors import membership_get


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("meet")


# Stand-in for the call branch's tests; the rooms UI branch owns the real view.
@login_required
def room_call(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, slug=slug)
    membership = membership_get(room=room, user=cast(User, request.user))
    if membership is None:
        raise Http404
    config = call_config(request=request, room=room, membership=membership)
    return render(
        request,
        "rooms/call.html",
        {"room": room, "membership": membership, "call_config": config},
    )


landing = dashboard = room_create = room_detail = room_update = _todo
room_lock = room_end = room_reopen = room_delete = room_leave = _todo
invite_create = invite_revoke = member_remove = member_role = _todo
invite_open = invite_confirm = _todo
