"""A Python handler for examples/tools/tools.toml (``python = "units.py:convert_temperature"``)."""

from __future__ import annotations

from typing import Literal


def convert_temperature(value: float, to: Literal["celsius", "fahrenheit"]) -> str:
    """Convert a temperature to Celsius or Fahrenheit.

    Args:
        value: The temperature in the other unit.
        to: The unit to convert to.
    """
    if to == "fahrenheit":
        return f"{value * 9 / 5 + 32:.1f} °F"
    return f"{(value - 32) * 5 / 9:.1f} °C"
