from django.urls import path

from . import call_views, views

app_name = "rooms"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("rooms/new/", views.room_create, name="create"),
    path("r/<str:slug>/", views.room_detail, name="detail"),
    path("r/<str:slug>/call/", views.room_call, name="call"),
    path("r/<str:slug>/call/invite/", call_views.call_invite, name="call_invite"),
    path("r/<str:slug>/settings/", views.room_update, name="update"),
    path("r/<str:slug>/lock/", views.room_lock, name="lock"),
    path("r/<str:slug>/end/", views.room_end, name="end"),
    path("r/<str:slug>/reopen/", views.room_reopen, name="reopen"),
    path("r/<str:slug>/delete/", views.room_delete, name="delete"),
    path("r/<str:slug>/leave/", views.room_leave, name="leave"),
    path("r/<str:slug>/invites/", views.invite_create, name="invite_create"),
    path("r/<str:slug>/invites/<int:pk>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("r/<str:slug>/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("r/<str:slug>/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("r/<str:slug>/guests/<int:pk>/remove/", views.guest_remove, name="guest_remove"),
    # The token is in the URL for exactly one request: it is checked, moved into
    # the session, and the browser is redirected to a token-free page.
    path("i/<str:token>/", views.invite_open, name="invite_open"),
    path("invite/", views.invite_confirm, name="invite_confirm"),
    path("invite/guest/", views.invite_guest, name="invite_guest"),
]
