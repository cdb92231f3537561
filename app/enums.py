"""Helper to store Python StrEnums as readable VARCHARs (portable, no native ENUM types)."""

from enum import StrEnum

from sqlalchemy import Enum


def enum_column(enum_cls: type[StrEnum], length: int = 24) -> Enum:
    # Store the value ("sales"), not the member name ("SALES"), so SQL reads like the domain.
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
