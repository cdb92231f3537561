"""Guard for the synchronous entry points built on pyHanko's sync API."""

from __future__ import annotations

import asyncio

from signing.errors import SigningError


def refuse_running_loop(function: str) -> None:
    """Fail clearly instead of with asyncio.run's generic RuntimeError.

    pyHanko's synchronous API calls ``asyncio.run``, which cannot run inside
    an event loop that is already running.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise SigningError(
        f"{function} is synchronous and runs its own event loop: "
        "call it through asyncio.to_thread from async code"
    )
