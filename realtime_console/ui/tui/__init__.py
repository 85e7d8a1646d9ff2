"""The Textual terminal UI of ``talk``.

Importing this package stays light (no Textual): the talk loop imports
``realtime_console.ui.tui.app`` only when it is about to show the UI, so ``--plain`` and
non-terminal runs never load Textual. ``python -m realtime_console.ui.tui.demo`` runs the UI with
a scripted conversation (no network, no audio).
"""
