import pytest

from rooms import services


@pytest.mark.django_db
def test_owner_becomes_host_of_new_room(django_user_model):
    owner = django_user_model.objects.create_user("minji", password="pw")
    room = services.room_create(owner=owner, name="Standup")
    assert room.memberships.get().is_host
