"""Example tools for ``--tools examples/tools/weather.py``: canned, deterministic weather.

Every public function here becomes a tool: its name, its docstring's first paragraph as the
description, its type hints as the parameters' JSON schema. The data is made up and fixed,
so demos and tests get the same answers every time.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

Unit = Literal["celsius", "fahrenheit"]

# city -> (temperature in °C, conditions, humidity in %)
_NOW = {
    "paris": (18.0, "partly cloudy", 62),
    "london": (14.0, "light rain", 81),
    "new york": (22.0, "sunny", 48),
    "tokyo": (26.0, "humid and overcast", 74),
    "sydney": (11.0, "clear", 55),
}
_DAILY_CHANGE = (0.0, 1.5, -2.0, 0.5, 3.0, -1.0, 2.0)
_DAILY_CONDITIONS = ("sunny", "cloudy", "showers", "sunny", "windy", "rain", "clear")


def _lookup(city: str) -> tuple[float, str, int]:
    try:
        return _NOW[city.strip().lower()]
    except KeyError:
        known = ", ".join(name.title() for name in _NOW)
        raise ValueError(f"no weather data for {city!r} (try {known})") from None


def _convert(celsius: float, unit: Unit) -> float:
    return round(celsius * 9 / 5 + 32, 1) if unit == "fahrenheit" else celsius


def get_weather(city: str, unit: Unit = "celsius") -> dict[str, object]:
    """Get the current weather in a city.

    Use it when the user asks what the weather is like now. Tell them the temperature and the
    conditions in one short sentence.

    Args:
        city: The city's name in English, e.g. "Paris" or "New York".
        unit: The temperature unit to answer in.
    """
    celsius, conditions, humidity = _lookup(city)
    return {
        "city": city.strip().title(),
        "temperature": _convert(celsius, unit),
        "unit": unit,
        "conditions": conditions,
        "humidity_percent": humidity,
    }


def get_forecast(
    city: str,
    days: Annotated[int, Field(ge=1, le=7, description="How many days ahead, 1 to 7.")] = 3,
    unit: Unit = "celsius",
) -> list[dict[str, object]]:
    """Get the daily forecast for a city, starting tomorrow.

    Args:
        city: The city's name in English.
        unit: The temperature unit to answer in.
    """
    celsius, _, _ = _lookup(city)
    return [
        {
            "day": day,
            "high": _convert(celsius + _DAILY_CHANGE[day - 1] + 4, unit),
            "low": _convert(celsius + _DAILY_CHANGE[day - 1] - 5, unit),
            "conditions": _DAILY_CONDITIONS[day - 1],
        }
        for day in range(1, days + 1)
    ]
