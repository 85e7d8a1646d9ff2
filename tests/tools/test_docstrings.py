from __future__ import annotations

from realtime_console.tools.docstrings import parse_docstring


def test_summary_is_the_first_paragraph_on_one_line() -> None:
    doc = parse_docstring(
        """Get the weather
        in a city.

        More text the model does not get.
        """
    )
    assert doc.summary == "Get the weather in a city."


def test_no_docstring_gives_empty_summary() -> None:
    assert parse_docstring(None).summary == ""
    assert parse_docstring("   ").summary == ""


def test_google_args_with_types_and_continuations() -> None:
    doc = parse_docstring(
        """Summary.

        Args:
            city (str): The city,
                in English.
            unit (str, optional): The unit.
            *extra: Ignored varargs still parse.

        Returns:
            dict: not a parameter.
        """
    )
    assert doc.params == {
        "city": "The city, in English.",
        "unit": "The unit.",
        "extra": "Ignored varargs still parse.",
    }


def test_google_section_after_summary_is_not_in_summary() -> None:
    doc = parse_docstring("Args:\n    x: The x.\n\nReturns:\n    Nothing.")
    assert doc.summary == ""
    assert doc.params == {"x": "The x."}


def test_numpy_parameters_section() -> None:
    doc = parse_docstring(
        """Summary.

        Parameters
        ----------
        x, y : int
            A coordinate,
            one of two.
        label : str
            The label.

        Returns
        -------
        value : int
            Not a parameter.
        """
    )
    assert doc.params == {
        "x": "A coordinate, one of two.",
        "y": "A coordinate, one of two.",
        "label": "The label.",
    }


def test_sphinx_params() -> None:
    doc = parse_docstring(
        """Summary.

        :param str city: The city
            name.
        :param unit: The unit.
        :returns: nothing to see.
        """
    )
    assert doc.params == {"city": "The city name.", "unit": "The unit."}


def test_unrecognised_sections_give_no_params() -> None:
    assert parse_docstring("Summary.\n\nNotes:\n    x: not an argument.").params == {}
