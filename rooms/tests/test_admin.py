import pytest
from django.urls import reverse
from django.utils import timezone

from rooms import admin as rooms_admin
from rooms import services
from rooms.models import AuditEvent, Invite, Room

from .conftest import make_invite, make_room, make_user

pytestmark = pytest.mark.django_db

ROOMS = reverse("admin:rooms_room_changelist")
INVITES = reverse("admin:rooms_invite_changelist")


@pytest.fixture
def counts(monkeypatch):
    """participant_counts as the admin sees it, recording each call."""
    calls: list[list[int]] = []
    live: dict[int, int] = {}

    def fake(room_ids):
        calls.append(list(room_ids))
        return {pk: n for pk, n in live.items() if pk in calls[-1]}

    monkeypatch.setattr(rooms_admin, "participant_counts", fake)
    return live, calls


def run_action(admin_client, url, action, objects):
    return admin_client.post(
        url, {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True
    )


def test_room_list_shows_owner_members_and_live_count_in_one_lookup(admin_client, room, counts):
    live, calls = counts
    other = make_room(make_user("ara"), "Quiet room")
    live[room.pk] = 3
    body = admin_client.get(ROOMS).content.decode()
    assert "Design review" in body
    assert "Quiet room" in body
    assert '<td class="field-owner nowrap">Minji</td>' in body
    assert '<td class="field-member_count">2</td>' in body
    assert '<td class="field-live_count">3</td>' in body
    assert '<td class="field-live_count">0</td>' in body
    assert len(calls) == 1
    assert set(calls[0]) == {room.pk, other.pk}


def test_room_list_search_and_filters(admin_client, room, owner):
    locked = make_room(make_user("ara"), "Locked room")
    services.room_set_locked(room=locked, by=None, locked=True)
    ended = make_room(make_user("bora"), "Ended room")
    services.room_end(room=ended, by=None)

    def names(query):
        response = admin_client.get(ROOMS + query)
        return {room.name for room in response.context["cl"].result_list}

    assert names("?q=minji") == {"Design review"}
    assert names(f"?q={locked.slug}") == {"Locked room"}
    assert names("?is_locked__exact=1") == {"Locked room"}
    assert names("?ended=yes") == {"Ended room"}
    assert names("?ended=no") == {"Design review", "Locked room"}


def test_room_change_page_has_membership_and_invite_inlines(admin_client, room):
    invite, token = make_invite(room, max_uses=4)
    body = admin_client.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert "Jun" in body
    assert 'name="memberships-1-role"' in body
    assert "Active" in body
    assert token not in body
    assert invite.token_hash not in body


def test_rooms_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:rooms_room_add")).status_code == 403


def test_lock_and_unlock_actions(admin_client, room):
    run_action(admin_client, ROOMS, "lock_rooms", [room])
    assert Room.objects.get(pk=room.pk).is_locked
    response = run_action(admin_client, ROOMS, "unlock_rooms", [room])
    assert not Room.objects.get(pk=room.pk).is_locked
    assert "1 room unlocked." in response.content.decode()


def test_end_meeting_action_ends_and_disconnects_through_the_service(
    admin_client, room, live_events, django_capture_on_commit_callbacks
):
    other = make_room(make_user("ara"))
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, ROOMS, "end_meetings", [room, other])
    assert Room.objects.filter(ended_at__isnull=False).count() == 2
    assert sorted(kwargs["room_id"] for name, kwargs in live_events if name == "room_ended") == [
        room.pk,
        other.pk,
    ]
    assert "2 meetings ended" in response.content.decode()


def test_reopen_action(admin_client, room):
    services.room_end(room=room, by=None)
    run_action(admin_client, ROOMS, "reopen_meetings", [room])
    assert Room.objects.get(pk=room.pk).ended_at is None


def test_deleting_rooms_in_the_admin_disconnects_their_calls(
    admin_client, room, live_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            ROOMS, {"action": "delete_selected", "_selected_action": [room.pk], "post": "yes"}
        )
    assert not Room.objects.exists()
    assert live_events == [("room_ended", {"room_id": room.pk})]


def membership_form_data(room: Room, **changes: dict) -> dict:
    memberships = list(room.memberships.order_by("created_at"))
    data = {
        "name": room.name,
        "max_participants": room.max_participants,
        "memberships-TOTAL_FORMS": len(memberships),
        "memberships-INITIAL_FORMS": len(memberships),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
        "invites-TOTAL_FORMS": 0,
        "invites-INITIAL_FORMS": 0,
        "invites-MIN_NUM_FORMS": 0,
        "invites-MAX_NUM_FORMS": 1000,
    }
    for index, membership in enumerate(memberships):
        data[f"memberships-{index}-id"] = membership.pk
        data[f"memberships-{index}-room"] = room.pk
        data[f"memberships-{index}-role"] = membership.role
        data.update(
            {
                f"memberships-{index}-{key}": value
                for key, value in changes.get(membership.user.username, {}).items()
            }
        )
    return data


def test_lobby_switched_in_the_admin_is_audited_and_reaches_the_call(
    admin_client, room, live_events, django_capture_on_commit_callbacks
):
    url = reverse("admin:rooms_room_change", args=[room.pk])
    data = {**membership_form_data(room), "lobby_enabled": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302
    assert Room.objects.get(pk=room.pk).lobby_enabled
    assert live_events == [("lobby_changed", {"room_id": room.pk, "on": True})]
    record = AuditEvent.objects.filter(room=room, action=AuditEvent.Action.ROOM_UPDATED).get()
    assert record.details == {"lobby_enabled": [False, True]}
    assert record.actor_label.startswith("admin:")


def test_inline_role_change_goes_through_the_service(admin_client, room, member):
    url = reverse("admin:rooms_room_change", args=[room.pk])
    response = admin_client.post(url, membership_form_data(room, jun={"role": "host"}))
    assert response.status_code == 302
    assert room.memberships.get(user=member).is_host


def test_inline_cannot_demote_the_owner(admin_client, room, owner):
    url = reverse("admin:rooms_room_change", args=[room.pk])
    response = admin_client.post(url, membership_form_data(room, minji={"role": "member"}))
    assert response.status_code == 200
    assert "The owner is always a host." in response.content.decode()
    assert room.memberships.get(user=owner).is_host


def test_inline_removal_disconnects_the_member(
    admin_client, room, member, live_events, django_capture_on_commit_callbacks
):
    url = reverse("admin:rooms_room_change", args=[room.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, membership_form_data(room, jun={"DELETE": "on"}))
    assert response.status_code == 302
    assert not room.memberships.filter(user=member).exists()
    assert live_events == [("member_removed", {"room_id": room.pk, "user_id": member.pk})]


def test_inline_cannot_remove_the_owner(admin_client, room, owner):
    url = reverse("admin:rooms_room_change", args=[room.pk])
    response = admin_client.post(url, membership_form_data(room, minji={"DELETE": "on"}))
    assert response.status_code == 200
    assert "The owner cannot be removed" in response.content.decode()
    assert room.memberships.filter(user=owner).exists()


# --- Invites --------------------------------------------------------------------------------


def test_invite_list_shows_room_creator_uses_and_status_without_the_hash(admin_client, room):
    invite, token = make_invite(room, max_uses=3)
    services.invite_accept(token=token, user=make_user("ara"))
    revoked, _ = make_invite(room)
    services.invite_revoke(invite=revoked, by=None)
    body = admin_client.get(INVITES).content.decode()
    assert '<td class="field-uses">1 / 3</td>' in body
    assert "Design review" in body
    assert "Revoked" in body
    for shown in (invite, revoked):
        assert shown.token_hash not in body
        assert shown.token_hash[:16] not in body
    assert token not in body


def test_invite_view_page_is_read_only_and_hides_the_hash(admin_client, room):
    invite, token = make_invite(room)
    response = admin_client.get(reverse("admin:rooms_invite_change", args=[invite.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in body
    assert invite.token_hash not in body
    assert "token_hash" not in body
    assert token not in body


def test_invites_cannot_be_created_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:rooms_invite_add")).status_code == 403


def test_invite_status_filter(admin_client, room):
    active, _ = make_invite(room)
    revoked, _ = make_invite(room)
    services.invite_revoke(invite=revoked, by=None)
    response = admin_client.get(INVITES + "?status=revoked")
    assert list(response.context["cl"].result_list) == [revoked]
    response = admin_client.get(INVITES + "?status=active")
    assert list(response.context["cl"].result_list) == [active]


def test_revoke_action(admin_client, room, member):
    invite, token = make_invite(room)
    services.invite_accept(token=token, user=make_user("ara"))
    response = run_action(admin_client, INVITES, "revoke_invites", [invite])
    assert Invite.objects.get(pk=invite.pk).revoked_at is not None
    assert "1 invite revoked." in response.content.decode()
    assert room.memberships.filter(user__username="ara").exists()


def test_staff_without_change_permission_cannot_revoke(client, room):
    from django.contrib.auth.models import Permission

    staff = make_user("viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_invite"))
    invite, _ = make_invite(room)
    client.force_login(staff)
    response = client.get(INVITES)
    assert response.status_code == 200
    assert "revoke_invites" not in response.content.decode()
    run_action(client, INVITES, "revoke_invites", [invite])
    assert Invite.objects.get(pk=invite.pk).revoked_at is None


def test_membership_inline_has_no_add_row(admin_client, room):
    """People join through invite links, not the admin."""
    body = admin_client.get(reverse("admin:rooms_room_change", args=[room.pk])).content.decode()
    assert 'id="memberships-empty"' not in body
    assert 'id="memberships-0"' in body


# --- Audit trail and Django's log -------------------------------------------------------------

AUDIT = reverse("admin:rooms_auditevent_changelist")
MEMBERSHIPS = reverse("admin:rooms_membership_changelist")


def log_messages(obj) -> list[str]:
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    )
    return [entry.get_change_message() for entry in entries.order_by("pk")]


def test_admin_actions_write_the_audit_trail_and_django_log(admin_client, admin_user, room):
    make_invite(room)
    invite = room.invites.get()
    run_action(admin_client, ROOMS, "lock_rooms", [room])
    run_action(admin_client, ROOMS, "end_meetings", [room])
    run_action(admin_client, ROOMS, "reopen_meetings", [room])
    run_action(admin_client, INVITES, "revoke_invites", [invite])
    trail = AuditEvent.objects.filter(actor_label=f"admin:{admin_user.username}").order_by("pk")
    assert [event.action for event in trail] == [
        AuditEvent.Action.ROOM_LOCKED,
        AuditEvent.Action.ROOM_ENDED,
        AuditEvent.Action.ROOM_REOPENED,
        AuditEvent.Action.INVITE_REVOKED,
    ]
    assert all(event.actor == admin_user for event in trail)
    assert log_messages(room) == ["Changed locked.", "Changed ended.", "Changed ended."]
    assert log_messages(invite) == ["Changed revoked."]


def test_recent_actions_read_in_korean(admin_client, room):
    run_action(admin_client, ROOMS, "lock_rooms", [room])
    body = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "최근 활동" in body  # Django's own catalog: the page is in Korean
    assert "Design review" in body


def test_audit_list_filters_by_room_actor_action_and_date(admin_client, room, owner, member):
    other = make_room(member, "Other room")
    services.room_set_locked(room=room, by=owner, locked=True)
    services.room_set_locked(room=other, by=member, locked=True)

    def shown(query: str) -> set[tuple[str, str]]:
        response = admin_client.get(AUDIT + query)
        assert response.status_code == 200
        return {(e.room_code, e.action) for e in response.context["cl"].result_list}

    locked = AuditEvent.Action.ROOM_LOCKED
    assert shown(f"?room__id__exact={room.pk}&action__exact={locked}") == {(room.slug, locked)}
    assert shown(f"?actor__id__exact={member.pk}") == {
        (other.slug, AuditEvent.Action.ROOM_CREATED),
        (other.slug, locked),
    }
    today = timezone.localdate()
    assert len(shown(f"?created_at__year={today.year}&created_at__month={today.month}")) == 4
    assert shown(f"?q={other.slug}") == {
        (other.slug, AuditEvent.Action.ROOM_CREATED),
        (other.slug, locked),
    }


def test_audit_trail_is_read_only(admin_client, room):
    event = AuditEvent.objects.get(room=room)
    body = admin_client.get(reverse("admin:rooms_auditevent_change", args=[event.pk])).content
    assert b'name="_save"' not in body
    assert admin_client.get(reverse("admin:rooms_auditevent_add")).status_code == 403
    delete = reverse("admin:rooms_auditevent_delete", args=[event.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in admin_client.get(AUDIT).content.decode()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_pages_are_in_korean(admin_client, room):
    body = admin_client.get(AUDIT, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "감사 기록" in body
    assert "회의 생성" in body


# --- Memberships ---------------------------------------------------------------------------


def test_membership_list_searches_by_user_and_room_and_filters_by_role(
    admin_client, room, owner, member
):
    other = make_room(make_user("ara", display_name="Ara"), "Other room")

    def shown(query: str) -> set[tuple[str, str]]:
        response = admin_client.get(MEMBERSHIPS + query)
        return {(m.user.username, m.room.name) for m in response.context["cl"].result_list}

    assert shown("?q=jun") == {("jun", "Design review")}
    assert shown(f"?q={other.slug}") == {("ara", "Other room")}
    assert shown("?role__exact=host") == {("minji", "Design review"), ("ara", "Other room")}
    assert shown("?role__exact=member") == {("jun", "Design review")}


def test_remove_action_goes_through_the_service_and_skips_owners(
    admin_client, admin_user, room, owner, member, live_events, django_capture_on_commit_callbacks
):
    memberships = list(room.memberships.all())
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, MEMBERSHIPS, "remove_members", memberships)
    body = response.content.decode()
    assert "1 person removed from their room." in body
    assert "1 owner was not removed" in body
    assert list(room.memberships.values_list("user__username", flat=True)) == ["minji"]
    assert live_events == [("member_removed", {"room_id": room.pk, "user_id": member.pk})]
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_REMOVED)
    assert (event.actor_label, event.target) == (f"admin:{admin_user.username}", member)
    from django.contrib.admin.models import DELETION, LogEntry

    assert LogEntry.objects.filter(action_flag=DELETION, object_repr__startswith="Jun").count() == 1


def test_membership_bulk_delete_is_replaced_by_remove(admin_client, room):
    body = admin_client.get(MEMBERSHIPS).content.decode()
    assert "remove_members" in body
    assert "delete_selected" not in body


def test_membership_role_change_goes_through_the_service(admin_client, room, member):
    membership = room.memberships.get(user=member)
    url = reverse("admin:rooms_membership_change", args=[membership.pk])
    assert admin_client.post(url, {"role": "host"}).status_code == 302
    assert room.memberships.get(user=member).is_host
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MEMBER_PROMOTED).count() == 1


def test_membership_change_page_cannot_demote_the_owner(admin_client, room, owner):
    membership = room.memberships.get(user=owner)
    url = reverse("admin:rooms_membership_change", args=[membership.pk])
    response = admin_client.post(url, {"role": "member"})
    assert response.status_code == 200
    assert "The owner is always a host." in response.content.decode()
    assert room.memberships.get(user=owner).is_host


def test_membership_delete_page_removes_through_the_service_but_not_the_owner(
    admin_client, room, owner, member, live_events, django_capture_on_commit_callbacks
):
    owner_membership = room.memberships.get(user=owner)
    url = reverse("admin:rooms_membership_delete", args=[owner_membership.pk])
    response = admin_client.post(url, {"post": "yes"}, follow=True)
    assert "The owner cannot be removed" in response.content.decode()
    assert room.memberships.filter(user=owner).exists()
    membership = room.memberships.get(user=member)
    url = reverse("admin:rooms_membership_delete", args=[membership.pk])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"post": "yes"})
    assert not room.memberships.filter(user=member).exists()
    assert live_events == [("member_removed", {"room_id": room.pk, "user_id": member.pk})]


def test_memberships_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:rooms_membership_add")).status_code == 403
