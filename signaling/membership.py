"""The admission's one query: a membership with its room and its user, by
room code and user id, with its SQL built once per database.

``Membership.objects.filter(room__slug=..., user_id=...).select_related("room",
"user")`` costs Django about 0.6 ms of CPU to build, compile and turn into
objects on every call, fifteen times what SQLite takes to run it
(docs/benchmarks.md). Every socket that opens runs it, so here the SQL is
written once from the models' metadata, and each row becomes the same three
model instances the ORM would make (``Model.from_db``, with the database
backend's and the fields' own value converters), the room and the user set
on the membership as ``select_related`` would.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Field, Model

from accounts.models import User
from rooms.models import Membership, Room

Converter = Callable[[Any, Any, Any], Any]
# Per column that needs them: its index in the row and its converters (each
# with the column expression it is given, as the ORM's compiler does).
Conversions = list[tuple[int, list[tuple[Converter, Any]]]]
MODELS: tuple[type[Model], ...] = (Membership, Room, User)


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # noqa: S101  (concrete fields have one)
    return field.column


class _Prepared:
    """The SQL and, per model, its columns' attribute names and conversions."""

    def __init__(self, alias: str) -> None:
        connection = connections[alias]
        quote = connection.ops.quote_name
        self.parts: list[tuple[type[Model], list[str], Conversions]] = []
        columns: list[str] = []
        offset = 0
        for model in MODELS:
            fields: Sequence[Field[Any, Any]] = model._meta.concrete_fields
            table = model._meta.db_table
            conversions: Conversions = []
            for index, field in enumerate(fields):
                column = field.get_col(table)
                found = connection.ops.get_db_converters(column) + field.get_db_converters(
                    connection
                )
                if found:
                    conversions.append((offset + index, [(c, column) for c in found]))
                columns.append(f"{quote(table)}.{quote(_column(field))}")
            self.parts.append((model, [f.attname for f in fields], conversions))
            offset += len(fields)
        membership, room, user = (quote(m._meta.db_table) for m in MODELS)
        room_fk = quote(_column(Membership._meta.get_field("room")))
        user_fk = quote(_column(Membership._meta.get_field("user")))
        slug = quote(_column(Room._meta.get_field("slug")))
        room_pk = quote(_column(Room._meta.pk))
        user_pk = quote(_column(User._meta.pk))
        # Names from the models' metadata, quoted; the values are parameters.
        select = f"SELECT {', '.join(columns)} FROM {membership}"  # noqa: S608
        self.sql = (
            f"{select} INNER JOIN {room} ON {membership}.{room_fk} = {room}.{room_pk}"
            f" INNER JOIN {user} ON {membership}.{user_fk} = {user}.{user_pk}"
            f" WHERE {room}.{slug} = %s AND {membership}.{user_fk} = %s"
        )


@functools.cache
def _prepared(alias: str, vendor: str) -> _Prepared:
    return _Prepared(alias)


def membership_of(slug: str, user_id: Any, *, using: str = "default") -> Membership | None:
    """The user's membership of the room with code ``slug`` (its ``room`` and
    ``user`` loaded), or ``None``. One query."""
    connection = connections[using]
    prepared = _prepared(using, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, [slug, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    objects = []
    start = 0
    for model, attnames, conversions in prepared.parts:
        for index, chain in conversions:
            value = values[index]
            for convert, column in chain:
                value = convert(value, column, connection)
            values[index] = value
        objects.append(model.from_db(using, attnames, values[start : start + len(attnames)]))
        start += len(attnames)
    membership, room, user = objects
    assert isinstance(membership, Membership)  # noqa: S101
    membership.room = room  # type: ignore[assignment]
    membership.user = user  # type: ignore[assignment]
    return membership
