from accounts.models import User


def test_display_name_is_used_when_set():
    assert User(username="minji", display_name="  Kim Minji ").get_display_name() == "Kim Minji"


def test_display_name_falls_back_to_username_then_email():
    assert User(username="minji").get_display_name() == "minji"
    assert User(username="", email="hana@example.com").get_display_name() == "hana"


def test_str_is_the_display_name():
    assert str(User(username="minji", display_name="Minji")) == "Minji"
