"""Renderers: ``plain`` (line-oriented) and, for ``talk``, a Textual UI."""
