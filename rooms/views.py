"""Pages for rooms, memberships and invites.

Views stay thin: forms validate input, ``services`` change things (and check
who may), ``selectors`` read. Anything carrying an invite token in its URL is
served with ``Referrer-Policy: no-referrer`` and has no POST form, because
browsers send ``Origin: null`` from such pages and the CSRF check would fail.
"""

from datetime import timedelta

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.http import AuthenticatedHttpRequest
from signaling.live import live_call, participant_counts

from . import selectors, services
from .callconfig import call_config
from .forms import GuestForm, InviteForm, LockForm, MemberRoleForm, RoomForm, RoomSettingsForm
from .guests import guest_from_request, guest_pass_set, has_guest_pass
from .models import Guest, Invite, Membership, Room
from .selectors import JoinRefused
from .services import InviteInvalid
from .session import (
    new_invite_link_pop,
    new_invite_link_set,
    pending_invite_clear,
    pending_invite_get,
    pending_invite_set,
)
from .throttle import (
    client_address,
    guest_created_record,
    guest_throttled_for,
    guest_throttled_response,
    throttle_invite_guesses,
)

INVITE_MISSING = "missing"


def _member_room(request: AuthenticatedHttpRequest, slug: str) -> tuple[Room, Membership]:
    """The room ``slug`` and the user's membership: 404 if there is no such room,
    403 (with the reason shown) if the user is not a member."""
    room = get_object_or_404(Room.objects.select_related("owner"), slug=slug)
    membership = selectors.membership_get(room=room, user=request.user)
    if membership is None:
        raise PermissionDenied(
            _("You are not a member of this room. Ask a host for an invite link.")
        )
    return room, membership


def _host_room(request: AuthenticatedHttpRequest, slug: str) -> tuple[Room, Membership]:
    """Like ``_member_room`` for pages only hosts see. The services check again."""
    room, membership = _member_room(request, slug)
    if not membership.is_host:
        raise PermissionDenied(_("Only a host of this room can do that."))
    return room, membership


def _render_room(
    request: AuthenticatedHttpRequest,
    *,
    room: Room,
    membership: Membership,
    invite_form: InviteForm | None = None,
) -> HttpResponse:
    try:
        selectors.call_join_check(slug=room.slug, user=request.user)
    except JoinRefused as refused:
        join_refusal = refused.reason
    else:
        join_refusal = ""
    # One read of presence for the count and for who leads the call.
    live = live_call(room.pk)
    context = {
        "room": room,
        "membership": membership,
        "is_owner": room.owner_id == request.user.pk,
        "members": selectors.room_members(room=room),
        "live_count": live.people,
        "acting_host": live.acting,
        "join_refusal": join_refusal,
        # Popped even if the user is no longer a host: it is shown once or never.
        "new_invite_link": new_invite_link_pop(request, room_slug=room.slug),
        # The language switch must not send the browser back to a POST-only URL.
        "language_next": room.get_absolute_url(),
    }
    if membership.is_host:
        context["invites"] = selectors.invites_active(room=room)
        context["invite_form"] = invite_form or InviteForm()
        context["lock_form_action"] = "unlock" if room.is_locked else "lock"
        context["activity"] = selectors.audit_recent(room=room)
        context["guests"] = selectors.guests_active(room=room)
    return render(request, "rooms/room_detail.html", context)


# --- Public pages ------------------------------------------------------------------


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "rooms/landing.html")


# --- Rooms -------------------------------------------------------------------------


@login_required
@require_safe
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    rooms = list(selectors.rooms_for_user(user=request.user))
    counts = participant_counts([room.pk for room in rooms])
    for room in rooms:
        room.live_count = counts.get(room.pk, 0)  # type: ignore[attr-defined]
    return render(request, "rooms/dashboard.html", {"rooms": rooms})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def room_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room = services.room_create(
            owner=request.user,
            name=form.cleaned_data["name"],
            max_participants=form.cleaned_data["max_participants"],
        )
        messages.success(request, _("Meeting created. Create an invite link to bring others in."))
        return redirect(room)
    return render(request, "rooms/room_create.html", {"form": form})


@login_required
@require_safe
@never_cache
def room_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, membership = _member_room(request, slug)
    return _render_room(request, room=room, membership=membership)


@require_safe
@never_cache
def room_call(request: HttpRequest, slug: str) -> HttpResponse:
    """The call page: for members, and for a guest whose pass is for this room."""
    room = get_object_or_404(Room.objects.select_related("owner"), slug=slug)
    user = request.user
    membership = selectors.membership_get(room=room, user=user) if user.is_authenticated else None
    if membership is not None:
        return render(
            request,
            "rooms/call.html",
            {
                "room": room,
                "membership": membership,
                "display_name": membership.user.get_display_name(),
                "room_url": room.get_absolute_url(),
                "call_config": call_config(request=request, room=room, membership=membership),
            },
        )
    guest = guest_from_request(request, room)
    if guest is not None:
        return _guest_call(request, room=room, guest=guest)
    if user.is_authenticated:
        raise PermissionDenied(
            _("You are not a member of this room. Ask a host for an invite link.")
        )
    if has_guest_pass(request):
        messages.error(
            request,
            _(
                "Your guest access to this meeting has ended. "
                "Sign in, or ask for a new invite link."
            ),
        )
    return redirect_to_login(request.get_full_path())


def _guest_call(request: HttpRequest, *, room: Room, guest: Guest) -> HttpResponse:
    context = {
        "room": room,
        "guest": guest,
        "display_name": guest.display_name,
        "room_url": reverse("rooms:landing"),
        "call_config": call_config(request=request, room=room, guest=guest),
    }
    return render(request, "rooms/call.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def room_update(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, _membership = _host_room(request, slug)
    form = RoomSettingsForm(request.POST or None, instance=room)
    if request.method == "POST" and form.is_valid():
        services.room_update(
            room=room,
            by=request.user,
            name=form.cleaned_data["name"],
            max_participants=form.cleaned_data["max_participants"],
            lobby_enabled=form.cleaned_data["lobby_enabled"],
        )
        messages.success(request, _("Meeting settings saved."))
        return redirect(room)
    return render(request, "rooms/room_update.html", {"room": room, "form": form})


@login_required
@require_POST
def room_lock(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    form = LockForm(request.POST)
    if not form.is_valid():
        raise BadRequest("Invalid lock action.")
    services.room_set_locked(room=room, by=request.user, locked=form.locked)
    if form.locked:
        messages.success(request, _("Meeting locked. Only hosts can join the call now."))
    else:
        messages.success(request, _("Meeting unlocked. All members can join the call."))
    return redirect(room)


@login_required
@require_POST
def room_end(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    services.room_end(room=room, by=request.user)
    messages.success(request, _("The meeting has ended and everyone in the call was disconnected."))
    return redirect(room)


@login_required
@require_POST
def room_reopen(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    services.room_reopen(room=room, by=request.user)
    messages.success(request, _("The meeting is open again. Members can join the call."))
    return redirect(room)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def room_delete(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    if room.owner_id != request.user.pk:
        raise PermissionDenied(_("Only the owner can delete this room."))
    if request.method == "POST":
        name = room.name
        services.room_delete(room=room, by=request.user)
        messages.success(request, _("“%(room)s” was deleted.") % {"room": name})
        return redirect("rooms:dashboard")
    return render(request, "rooms/room_confirm_delete.html", {"room": room})


@login_required
@require_POST
def room_leave(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, membership = _member_room(request, slug)
    services.membership_remove(membership=membership, by=request.user)
    messages.success(request, _("You left “%(room)s”.") % {"room": room.name})
    return redirect("rooms:dashboard")


# --- Members -----------------------------------------------------------------------


@login_required
@require_POST
def member_remove(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    target = get_object_or_404(Membership.objects.select_related("user", "room"), pk=pk, room=room)
    services.membership_remove(membership=target, by=request.user)
    messages.success(
        request,
        _("%(name)s was removed from the room.") % {"name": target.user.get_display_name()},
    )
    return redirect(room)


@login_required
@require_POST
def guest_remove(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A host removes a guest: their pass ends and their call closes (4411)."""
    room, _membership = _host_room(request, slug)
    guest = get_object_or_404(Guest.objects.select_related("room"), pk=pk, room=room)
    services.guest_remove(guest=guest, by=request.user)
    messages.success(
        request, _("%(name)s (guest) was removed from the meeting.") % {"name": guest.display_name}
    )
    return redirect(room)


@login_required
@require_POST
def member_role(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    target = get_object_or_404(Membership.objects.select_related("user", "room"), pk=pk, room=room)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        raise BadRequest("Invalid role.")
    services.membership_set_role(membership=target, by=request.user, role=form.cleaned_data["role"])
    name = target.user.get_display_name()
    if target.is_host:
        messages.success(request, _("%(name)s is now a host.") % {"name": name})
    else:
        messages.success(request, _("%(name)s is no longer a host.") % {"name": name})
    return redirect(room)


# --- Invites -----------------------------------------------------------------------


@login_required
@require_POST
def invite_create(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    room, membership = _host_room(request, slug)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _render_room(request, room=room, membership=membership, invite_form=form)
    _invite, token = services.invite_create(
        room=room,
        created_by=request.user,
        expires_in=form.cleaned_data["expires_in"],
        max_uses=form.cleaned_data["max_uses"],
        allow_guests=form.cleaned_data["allow_guests"],
    )
    # Shown on the next render of the room page only (post/redirect/get, so a
    # reload neither repeats the POST nor shows the link again).
    link = request.build_absolute_uri(reverse("rooms:invite_open", kwargs={"token": token}))
    new_invite_link_set(request, room_slug=room.slug, url=link)
    return redirect(room.get_absolute_url() + "#new-invite")


@login_required
@require_POST
def invite_revoke(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    room, _membership = _member_room(request, slug)
    invite = get_object_or_404(Invite.objects.select_related("room"), pk=pk, room=room)
    services.invite_revoke(invite=invite, by=request.user)
    messages.success(request, _("The invite link was revoked. It no longer works."))
    return redirect(room.get_absolute_url() + "#invites")


def _invite_error(
    request: HttpRequest, error: InviteInvalid, *, token_in_url: bool
) -> HttpResponse:
    """The page explaining why an invite cannot be used; a member of the room
    is simply taken there instead."""
    invite = error.invite
    if invite is not None and selectors.membership_get(room=invite.room, user=request.user):
        return _already_member(request, invite.room)
    return render(
        request,
        "rooms/invite_invalid.html",
        {"reason": error.reason, "invite": invite, "token_in_url": token_in_url},
        status=404 if error.reason == InviteInvalid.UNKNOWN else 410,
    )


def _already_member(request: HttpRequest, room: Room) -> HttpResponse:
    messages.info(request, _("You are already a member of “%(room)s”.") % {"room": room.name})
    return redirect(room)


@require_safe
@never_cache
@throttle_invite_guesses
def invite_open(request: HttpRequest, token: str) -> HttpResponse:
    """The invite link itself: check the token, move it into the session and
    continue on a URL without it."""
    try:
        invite = services.invite_get_by_token(token=token)
    except InviteInvalid as error:
        response = _invite_error(request, error, token_in_url=True)
    else:
        pending_invite_set(request, token=token, room_name=invite.room.name)
        confirm_url = reverse("rooms:invite_confirm")
        if request.user.is_authenticated:
            response = redirect(confirm_url)
        elif invite.allow_guests:
            response = redirect("rooms:invite_guest")
        else:
            signup_open = get_adapter(request).is_open_for_signup(request)
            auth_url = reverse("account_signup" if signup_open else "account_login")
            response = redirect_to_login(confirm_url, login_url=auth_url)
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def invite_confirm(request: AuthenticatedHttpRequest) -> HttpResponse:
    """“X invited you to «room»”, and the button that accepts it."""
    pending = pending_invite_get(request)
    if pending is None:
        return render(request, "rooms/invite_invalid.html", {"reason": INVITE_MISSING}, status=404)
    if request.method == "POST":
        try:
            membership = services.invite_accept(token=pending.token, user=request.user)
        except InviteInvalid as error:
            pending_invite_clear(request)
            return _invite_error(request, error, token_in_url=False)
        pending_invite_clear(request)
        messages.success(request, _("Welcome to “%(room)s”.") % {"room": membership.room.name})
        return redirect(membership.room)
    try:
        invite = services.invite_get_by_token(token=pending.token)
    except InviteInvalid as error:
        pending_invite_clear(request)
        return _invite_error(request, error, token_in_url=False)
    if selectors.membership_get(room=invite.room, user=request.user) is not None:
        pending_invite_clear(request)
        return _already_member(request, invite.room)
    return render(request, "rooms/invite_confirm.html", {"invite": invite, "room": invite.room})


def _guest_lifetime() -> timedelta:
    return timedelta(seconds=settings.GUEST_LIFETIME)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def invite_guest(request: HttpRequest) -> HttpResponse:
    """An invite that allows guests, opened while signed out: sign in (or up)
    to join as a member, or join this room's call as a guest with a name."""
    pending = pending_invite_get(request)
    if pending is None:
        return render(request, "rooms/invite_invalid.html", {"reason": INVITE_MISSING}, status=404)
    confirm_url = reverse("rooms:invite_confirm")
    if request.user.is_authenticated:
        return redirect(confirm_url)
    try:
        invite = services.invite_get_by_token(token=pending.token)
    except InviteInvalid as error:
        pending_invite_clear(request)
        return _invite_error(request, error, token_in_url=False)
    signup_open = get_adapter(request).is_open_for_signup(request)
    if not invite.allow_guests:
        auth_url = reverse("account_signup" if signup_open else "account_login")
        return redirect_to_login(confirm_url, login_url=auth_url)
    form = GuestForm(request.POST or None)
    if request.method == "POST":
        address = client_address(request)
        retry_after = guest_throttled_for(address)
        if retry_after:
            return guest_throttled_response(request, retry_after)
        if form.is_valid():
            try:
                guest = services.guest_join(
                    token=pending.token,
                    display_name=form.cleaned_data["display_name"],
                    lifetime=_guest_lifetime(),
                )
            except InviteInvalid as error:
                pending_invite_clear(request)
                return _invite_error(request, error, token_in_url=False)
            except PermissionDenied:
                auth_url = reverse("account_signup" if signup_open else "account_login")
                return redirect_to_login(confirm_url, login_url=auth_url)
            guest_created_record(address)
            pending_invite_clear(request)
            # A new pass, a new session key: a key known before cannot ride on it.
            request.session.cycle_key()
            guest_pass_set(request, guest)
            return redirect(guest.room.get_call_url())
    next_query = f"?next={confirm_url}"
    context = {
        "invite": invite,
        "room": invite.room,
        "form": form,
        "login_url": reverse("account_login") + next_query,
        "signup_url": reverse("account_signup") + next_query if signup_open else "",
    }
    return render(request, "rooms/invite_guest.html", context)
