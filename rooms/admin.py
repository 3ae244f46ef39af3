"""The admin wires rooms, memberships and invites to the same services the
site uses, so a change made here (ending a meeting, removing a member)
reaches live calls too and lands in the audit trail as "admin:<username>".
Actions also write Django's own ``LogEntry`` (the admin's "Recent actions")."""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, QuerySet
from django.forms import ModelForm
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import User
from signaling.linkstats import room_links
from signaling.live import participant_counts

from . import services
from .audit import Admin
from .models import AuditEvent, Guest, Invite, Membership, Room, invite_status_q


def _admin(request: HttpRequest) -> Admin:
    # The admin site admits only signed-in staff.
    return Admin(cast(User, request.user))


def _changed(*fields: str) -> list[dict[str, Any]]:
    """A ``LogEntry`` change message in Django's own form, so "Recent actions"
    shows it in the reader's language (field names are translated on display)."""
    return [{"changed": {"fields": list(fields)}}]


class MembershipInlineFormSet(BaseInlineFormSet[Membership, Room, ModelForm[Membership]]):
    def clean(self) -> None:
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.user_id == self.instance.owner_id:
                raise ValidationError(_("The owner cannot be removed; delete the room instead."))


class MembershipInline(admin.TabularInline[Membership, Room]):
    model = Membership
    formset = MembershipInlineFormSet
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "created_at")
    extra = 0

    # People join through invite links; the admin changes roles and removes.
    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False


class InviteInline(admin.TabularInline[Invite, Room]):
    model = Invite
    fields = ("created_by", "created_at", "expires_at", "max_uses", "use_count", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False

    @admin.display(description=_("status"))
    def status(self, invite: Invite) -> str:
        return str(invite.status().label)


class EndedFilter(admin.SimpleListFilter):
    title = _("ended")
    parameter_name = "ended"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, StrOrPromise]]:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(ended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(ended_at__isnull=True)
        return queryset


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = (
        "name",
        "slug",
        "owner",
        "member_count",
        "live_count",
        "is_locked",
        "lobby_enabled",
        "is_ended",
        "created_at",
    )
    list_filter = ("is_locked", "lobby_enabled", EndedFilter, "max_participants", "created_at")
    list_select_related = ("owner",)
    search_fields = (
        "name",
        "slug",
        "owner__username",
        "owner__email",
        "owner__display_name",
    )
    date_hierarchy = "created_at"
    fields = (
        "name",
        "slug",
        "owner",
        "max_participants",
        "is_locked",
        "lobby_enabled",
        "live_count",
        "live_links",
        "created_at",
        "ended_at",
    )
    # Ending and reopening disconnect or admit people: only the actions do that.
    readonly_fields = ("slug", "owner", "live_count", "live_links", "created_at", "ended_at")
    inlines = [MembershipInline, InviteInline]
    actions = ["lock_rooms", "unlock_rooms", "end_meetings", "reopen_meetings"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        # One presence lookup for the whole page instead of one per row.
        changelist = super().get_changelist_instance(request)
        rooms = list(changelist.result_list)
        counts = participant_counts([room.pk for room in rooms])
        for room in rooms:
            room.live = counts.get(room.pk, 0)
        return changelist

    # Rooms are created on the site, where their owner becomes the first host.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, room: Room) -> int:
        return int(room.member_count)  # type: ignore[attr-defined]

    @admin.display(description=_("in the call now"))
    def live_count(self, room: Room) -> int:
        if not hasattr(room, "live"):
            room.live = participant_counts([room.pk]).get(room.pk, 0)  # type: ignore[attr-defined]
        return int(room.live)  # type: ignore[attr-defined]

    @admin.display(description=_("links in the call now"))
    def live_links(self, room: Room) -> SafeString:
        """Who is connected to whom, over which path, as each side reports it
        (signaling/linkstats.py; kept only while the call lasts)."""
        rows = room_links(room.pk)
        if rows is None:
            return format_html("{}", gettext("Link reports are unavailable right now."))
        if not rows:
            return format_html("{}", gettext("No links reported in the call right now."))
        unknown = "–"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.reporter,
                    row.peer,
                    " / ".join(part for part in (row.path, row.transport) if part) or unknown,
                    unknown if row.rtt is None else gettext("%(ms)s ms") % {"ms": round(row.rtt)},
                    unknown if row.loss is None else f"{row.loss:.1f} %",
                    gettext("%(s)s s ago") % {"s": round(row.age)},
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="live-links"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            gettext("from"),
            gettext("to"),
            gettext("path"),
            gettext("round trip"),
            gettext("loss"),
            gettext("reported"),
            body,
        )

    @admin.display(description=_("ended"), boolean=True, ordering="ended_at")
    def is_ended(self, room: Room) -> bool:
        return room.is_ended

    @admin.action(description=_("Lock selected rooms"), permissions=["change"])
    def lock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset.filter(is_locked=False):
            services.room_set_locked(room=room, by=_admin(request), locked=True)
            self.log_change(request, room, _changed("locked"))
            count += 1
        message = ngettext("%(count)d room locked.", "%(count)d rooms locked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Unlock selected rooms"), permissions=["change"])
    def unlock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset.filter(is_locked=True):
            services.room_set_locked(room=room, by=_admin(request), locked=False)
            self.log_change(request, room, _changed("locked"))
            count += 1
        message = ngettext("%(count)d room unlocked.", "%(count)d rooms unlocked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("End meeting (disconnect everyone)"), permissions=["change"])
    def end_meetings(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset.filter(ended_at__isnull=True):
            services.room_end(room=room, by=_admin(request))
            self.log_change(request, room, _changed("ended"))
            count += 1
        message = ngettext(
            "%(count)d meeting ended; everyone in its call was disconnected.",
            "%(count)d meetings ended; everyone in their calls was disconnected.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Reopen ended meetings"), permissions=["change"])
    def reopen_meetings(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset.filter(ended_at__isnull=False):
            services.room_reopen(room=room, by=_admin(request))
            self.log_change(request, room, _changed("ended"))
            count += 1
        message = ngettext("%(count)d meeting reopened.", "%(count)d meetings reopened.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm[Room],
        formset: BaseInlineFormSet[Any, Room, Any],
        change: bool,
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # Through the services, so a removed member is dropped from a live call.
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_remove(membership=membership, by=_admin(request))
        for membership, changed in formset.changed_objects:
            if "role" in changed:
                services.membership_set_role(
                    membership=membership, by=_admin(request), role=membership.role
                )

    def save_model(
        self, request: HttpRequest, obj: Room, form: ModelForm[Room], change: bool
    ) -> None:
        """The lobby switch goes through the service, so it is audited and a
        call in progress hears it (turned off, whoever waits comes in)."""
        if not (change and "lobby_enabled" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        on = obj.lobby_enabled
        obj.lobby_enabled = not on  # as stored; the service changes it
        super().save_model(request, obj, form, change)
        services.room_set_lobby(room=obj, by=_admin(request), on=on)

    def delete_model(self, request: HttpRequest, obj: Room) -> None:
        services.room_delete(room=obj, by=_admin(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        for room in queryset:
            services.room_delete(room=room, by=_admin(request))


class InviteStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, StrOrPromise]]:
        return list(Invite.Status.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        status = self.value()
        if status is not None and status in Invite.Status.values:
            return queryset.filter(invite_status_q(status))
        return queryset


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin[Invite]):
    """Read-only: links are created on the room page, where the token is shown
    once. The token hash is not displayed at all."""

    list_display = (
        "room",
        "created_by",
        "kind",
        "allow_guests",
        "created_at",
        "expires_at",
        "uses",
        "revoked_at",
        "status",
    )
    list_filter = (InviteStatusFilter, "kind", "allow_guests", "created_at", "expires_at")
    list_select_related = ("room", "created_by")
    search_fields = ("room__name", "room__slug", "created_by__username", "created_by__email")
    date_hierarchy = "created_at"
    fields = (
        "room",
        "created_by",
        "kind",
        "allow_guests",
        "created_at",
        "expires_at",
        "max_uses",
        "use_count",
        "revoked_at",
        "status",
    )
    readonly_fields = fields
    actions = ["revoke_invites"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invite | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description=_("uses"), ordering="use_count")
    def uses(self, invite: Invite) -> str:
        if invite.max_uses is None:
            return str(invite.use_count)
        return f"{invite.use_count} / {invite.max_uses}"

    @admin.display(description=_("status"))
    def status(self, invite: Invite) -> str:
        return str(invite.status().label)

    @admin.action(description=_("Revoke selected invites"), permissions=["revoke"])
    def revoke_invites(self, request: HttpRequest, queryset: QuerySet[Invite]) -> None:
        count = 0
        for invite in queryset.filter(revoked_at__isnull=True).select_related("room"):
            services.invite_revoke(invite=invite, by=_admin(request))
            self.log_change(request, invite, _changed("revoked"))
            count += 1
        message = ngettext("%(count)d invite revoked.", "%(count)d invites revoked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


class GuestRemovedFilter(admin.SimpleListFilter):
    title = _("removed")
    parameter_name = "removed"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, StrOrPromise]]:
        return [("no", _("Not removed")), ("yes", _("Removed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(Guest)
class GuestAdmin(admin.ModelAdmin[Guest]):
    """Read-only but for removal: guests are created through invites."""

    list_display = ("display_name", "room", "invite", "created_at", "expires_at", "removed_at")
    list_filter = ("room", GuestRemovedFilter, "created_at")
    list_select_related = ("room", "invite")
    search_fields = ("display_name", "room__name", "room__slug")
    date_hierarchy = "created_at"
    fields = list_display
    readonly_fields = fields
    actions = ["remove_guests"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Guest | None = None) -> bool:
        return False

    def has_remove_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description=_("Remove selected guests from their calls"), permissions=["remove"])
    def remove_guests(self, request: HttpRequest, queryset: QuerySet[Guest]) -> None:
        guests = list(queryset.filter(removed_at__isnull=True).select_related("room"))
        for guest in guests:
            services.guest_remove(guest=guest, by=_admin(request))
            self.log_change(request, guest, _changed("removed"))
        message = ngettext("%(count)d guest removed.", "%(count)d guests removed.", len(guests))
        self.message_user(request, message % {"count": len(guests)}, messages.SUCCESS)


OWNER_NOT_REMOVED = _("The owner cannot be removed; delete the room instead.")


class MembershipForm(ModelForm[Membership]):
    class Meta:
        model = Membership
        fields = ["role"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    """Who is in which room. The role is changed and people are removed
    through the services, so a removed person's call connection is closed."""

    form = MembershipForm
    list_display = ("user", "room", "role", "created_at")
    list_filter = ("role", "created_at")
    list_select_related = ("user", "room")
    search_fields = (
        "user__username",
        "user__email",
        "user__display_name",
        "room__name",
        "room__slug",
    )
    date_hierarchy = "created_at"
    fields = ("user", "room", "role", "created_at")
    readonly_fields = ("user", "room", "created_at")
    actions = ["remove_members"]

    # People join through invite links.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        membership = self.get_object(request, object_id)
        if membership is not None and membership.user_id == membership.room.owner_id:
            self.message_user(request, OWNER_NOT_REMOVED, messages.ERROR)
            return redirect(reverse("admin:rooms_membership_change", args=[membership.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # "Remove from room" replaces the bulk delete, which would bypass the services.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(
        self, request: HttpRequest, obj: Membership, form: ModelForm[Membership], change: bool
    ) -> None:
        services.membership_set_role(membership=obj, by=_admin(request), role=obj.role)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        services.membership_remove(membership=obj, by=_admin(request))

    @admin.action(
        description=_("Remove from room (disconnects them from the call)"), permissions=["delete"]
    )
    def remove_members(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        removable = [
            m for m in queryset.select_related("room", "user") if m.user_id != m.room.owner_id
        ]
        skipped = queryset.count() - len(removable)
        if removable:
            self.log_deletions(request, removable)  # type: ignore[arg-type]
        for membership in removable:
            services.membership_remove(membership=membership, by=_admin(request))
        if removable:
            message = ngettext(
                "%(count)d person removed from their room.",
                "%(count)d people removed from their rooms.",
                len(removable),
            )
            self.message_user(request, message % {"count": len(removable)}, messages.SUCCESS)
        if skipped:
            message = ngettext(
                "%(count)d owner was not removed: an owner deletes the room instead.",
                "%(count)d owners were not removed: an owner deletes the room instead.",
                skipped,
            )
            self.message_user(request, message % {"count": skipped}, messages.WARNING)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """The audit trail: read-only, written only by the services."""

    list_display = ("created_at", "action", "actor_label", "room_link", "target_label", "invite")
    list_filter = (
        "action",
        ("room", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    list_select_related = ("room", "invite__room")
    search_fields = ("actor_label", "target_label", "room_code", "room_name")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "action",
        "actor_label",
        "actor",
        "room",
        "room_code",
        "room_name",
        "target_label",
        "target",
        "invite",
        "details",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.display(description=_("room"), ordering="room_code")
    def room_link(self, event: AuditEvent) -> str:
        # Deleted rooms are still named by the code and name they had.
        return f"{event.room_name} ({event.room_code})"
