from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("meet")


landing = dashboard = room_create = room_detail = room_call = room_update = _todo
room_lock = room_end = room_reopen = room_delete = room_leave = _todo
invite_create = invite_revoke = member_remove = member_role = _todo
invite_open = invite_confirm = _todo
