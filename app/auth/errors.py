class AuthError(Exception):
    """Base of authentication and authorisation failures."""


class InvalidCredentials(AuthError):
    """Unknown email, wrong password or deactivated user (one message for all three)."""


class TokenError(AuthError):
    """An API token that cannot be created or revoked as asked."""


class AccountLinkInvalid(AuthError):
    """A password link that is unknown, already used, expired or for a deactivated account
    (one message for all: the page must not tell which)."""
