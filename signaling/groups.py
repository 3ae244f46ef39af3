"""Channel-layer group names. Built only from primary keys, never from user input."""


def room_group(room_id: int) -> str:
    return f"room.{int(room_id)}"


def user_group(user_id: int) -> str:
    return f"user.{int(user_id)}"
