"""The admin wires rooms and invites to the same services the site uses, so a
change made here (ending a meeting, removing a member) reaches live calls too."""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signaling.live import participant_counts

from . import selectors, services
from .models import Invite, Membership, Room


class MembershipInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.user_id == self.instance.owner_id:
                raise ValidationError(_("The owner cannot be removed; delete the room instead."))


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipInlineFormSet
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "created_at")
    extra = 0

    # People join through invite links; the admin changes roles and removes.
    def has_add_permission(self, request: HttpRequest, obj: Room | None = None) -> bool:
        return False


class InviteInline(admin.TabularInline):
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

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(ended_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(ended_at__isnull=True)
        return queryset


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "owner",
        "member_count",
        "live_count",
        "is_locked",
        "is_ended",
        "created_at",
    )
    list_filter = ("is_locked", EndedFilter, "max_participants", "created_at")
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
        "live_count",
        "created_at",
        "ended_at",
    )
    # Ending and reopening disconnect or admit people: only the actions do that.
    readonly_fields = ("slug", "owner", "live_count", "created_at", "ended_at")
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
        return room.member_count  # type: ignore[attr-defined]

    @admin.display(description=_("in the call now"))
    def live_count(self, room: Room) -> int:
        if not hasattr(room, "live"):
            room.live = participant_counts([room.pk]).get(room.pk, 0)  # type: ignore[attr-defined]
        return room.live  # type: ignore[attr-defined]

    @admin.display(description=_("ended"), boolean=True, ordering="ended_at")
    def is_ended(self, room: Room) -> bool:
        return room.is_ended

    @admin.action(description=_("Lock selected rooms"), permissions=["change"])
    def lock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset:
            services.room_set_locked(room=room, by=None, locked=True)
            count += 1
        message = ngettext("%(count)d room locked.", "%(count)d rooms locked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Unlock selected rooms"), permissions=["change"])
    def unlock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset:
            services.room_set_locked(room=room, by=None, locked=False)
            count += 1
        message = ngettext("%(count)d room unlocked.", "%(count)d rooms unlocked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("End meeting (disconnect everyone)"), permissions=["change"])
    def end_meetings(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        count = 0
        for room in queryset:
            services.room_end(room=room, by=None)
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
            services.room_reopen(room=room, by=None)
            count += 1
        message = ngettext("%(count)d meeting reopened.", "%(count)d meetings reopened.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # Through the services, so a removed member is dropped from a live call.
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.membership_remove(membership=membership, by=None)
        for membership, changed in formset.changed_objects:
            if "role" in changed:
                services.membership_set_role(membership=membership, by=None, role=membership.role)

    def delete_model(self, request: HttpRequest, obj: Room) -> None:
        services.room_delete(room=obj, by=None)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        for room in queryset:
            services.room_delete(room=room, by=None)


class InviteStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return list(Invite.Status.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        status = self.value()
        if status is not None and status in Invite.Status.values:
            return queryset.filter(selectors.invite_status_q(status))
        return queryset


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    """Read-only: links are created on the room page, where the token is shown
    once. The token hash is not displayed at all."""

    list_display = (
        "room",
        "created_by",
        "created_at",
        "expires_at",
        "uses",
        "revoked_at",
        "status",
    )
    list_filter = (InviteStatusFilter, "created_at", "expires_at")
    list_select_related = ("room", "created_by")
    search_fields = ("room__name", "room__slug", "created_by__username", "created_by__email")
    date_hierarchy = "created_at"
    fields = (
        "room",
        "created_by",
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
            services.invite_revoke(invite=invite, by=None)
            count += 1
        message = ngettext("%(count)d invite revoked.", "%(count)d invites revoked.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)
