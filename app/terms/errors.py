from app.errors import Conflict, DomainError, FieldErrors, Gone, NotFound


class CgvInvalid(FieldErrors):
    """A CGV version that cannot be published as given, one message per field."""


class NoCgvInForce(Conflict):
    """No CGV version is in force on the date asked: nothing can be contracted."""


class CgvNotFound(NotFound):
    """No CGV version with this id."""


class AcceptanceRefused(Conflict):
    """An acceptance whose text hash differs from the published version's."""


class CgvQueryInvalid(FieldErrors):
    """A query parameter that cannot be read (e.g. a date that is not AAAA-MM-JJ)."""


class AcceptanceLinkUnknown(NotFound):
    """No click-through acceptance link with this token."""


class AcceptanceLinkGone(Gone):
    """A click-through acceptance link that expired or already served."""


class ConsentMissing(DomainError):
    """The acceptance box was not ticked."""


class PreviewNotFound(NotFound):
    """No CGV preview with this id."""


class PreviewNotReady(Conflict):
    """Publication asked before the preview's PDF was rendered: nothing was shown yet."""


class PreviewStale(Conflict):
    """The text submitted for publication is not the one the preview showed."""
