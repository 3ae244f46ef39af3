"""What the call page's JavaScript needs, rendered with ``json_script``.

Owned by the call page work; the view only passes its result to the template.
"""

from django.http import HttpRequest

from .models import Membership, Room


def call_config(*, request: HttpRequest, room: Room, membership: Membership) -> dict:
    return {}
