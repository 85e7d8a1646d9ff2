"""``replay``: a recorded event log fed back through the live session's dispatcher and handlers,
plus what can be computed from a log (summary, WAV of what was heard, timeline picture) and a
re-send of its client events to a live server.

Everything here reads the log as a stream (``eventlog.read_log``): memory does not grow with it.
"""
