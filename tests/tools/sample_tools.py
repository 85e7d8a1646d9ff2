"""Real functions for the schema tests, imported by dotted name and by path."""

from __future__ import annotations

import asyncio
from os.path import join  # imported: must not become a tool
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

__all__ = [
    "book_table",
    "convert",
    "echo",
    "forecast",
    "join",
    "lookup",
    "no_arguments",
    "search",
    "slow_hello",
]


class Place(BaseModel):
    city: str
    country: str = "FR"


class Window(TypedDict):
    start: int
    end: int


def lookup(word: str, limit: int = 3, exact: bool = False, score: float = 0.5) -> list[str]:
    """Find words that look like ``word``.

    A second paragraph the model does not need.

    Args:
        word: The word to look up.
        limit: At most this many
            answers.
    """
    return [word] * limit


def convert(value: float, to: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Convert a temperature.

    Parameters
    ----------
    value : float
        The temperature.
    to : str
        The unit to convert to.

    Returns
    -------
    str
    """
    return f"{value} {to}"


def search(
    query: Annotated[str, Field(description="From Annotated.", min_length=1)],
    tags: list[str] | None = None,
    page: int | None = None,
) -> dict[str, object]:
    """Search the notes.

    Args:
        query: From the docstring, which Annotated overrides.
        tags: Only notes with all these tags.
    """
    return {"query": query, "tags": tags, "page": page}


def book_table(place: Place, window: Window, guests: dict[str, int]) -> str:
    """Book a table.

    :param place: Where to eat.
    :param window: When, in minutes after midnight.
    """
    return f"{place.city}/{place.country} {window['start']}-{window['end']} {sorted(guests)}"


async def slow_hello(name: str, delay_s: float = 0.0) -> str:
    """Greet someone after a pause."""
    await asyncio.sleep(delay_s)
    return f"hello {name}"


def no_arguments() -> str:
    """Answer without being asked anything."""
    return "ok"


def echo(json: str, title: str = "t") -> dict[str, str]:
    """Echo parameters whose names clash with BaseModel attributes and schema keywords."""
    return {"json": json, "title": title}


def forecast(days: Annotated[int, Field(ge=1, le=7)] = 3) -> int:
    """Forecast a number of days."""
    return days


def _private_helper(x: int) -> int:
    return x


class NotATool:
    """Classes are not tools."""


def not_exported(x: int) -> int:
    """Public but missing from __all__."""
    return x


_ = join  # keep the import used
