"""The model enums: stored as readable VARCHARs (portable, no native ENUM types), and named
in French where a person reads them."""

from enum import StrEnum

from sqlalchemy import Enum

from app.rendering import labels


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry their French label (``Role.LEGAL.label`` ->
    ``"Juridique"``), read from app.rendering.labels' one table so that forms, pages and
    documents name a member the same way."""

    @property
    def label(self) -> str:
        return labels.label(self)


def enum_column(enum_cls: type[StrEnum], length: int = 24) -> Enum:
    # Store the value ("sales"), not the member name ("SALES"), so SQL reads like the domain.
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
