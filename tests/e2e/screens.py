"""The screens the responsive browser tests run on, and how a browser test runs the app's own
work (set-up, sending, signing) while Playwright holds its thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import pytest

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class Screen:
    width: int
    height: int

    @property
    def viewport(self) -> dict[str, int]:
        """What `Browser.new_context(viewport=...)` takes."""
        return {"width": self.width, "height": self.height}


PHONE = Screen(360, 740)
LAPTOP = Screen(1280, 900)
# Test ids as the screens were named before they were shared: "360-740", "1280-900".
SCREEN_IDS = [f"{screen.width}-{screen.height}" for screen in (PHONE, LAPTOP)]
ON_A_PHONE_AND_A_LAPTOP = pytest.mark.parametrize("screen", [PHONE, LAPTOP], ids=SCREEN_IDS)


def outside_the_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)`, run in another thread and waited for.

    Playwright's sync API keeps an asyncio loop running in the test's thread, and pyHanko's
    synchronous API (the app certifies a contract on sending, seals it on signing) refuses to
    run inside one.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()
