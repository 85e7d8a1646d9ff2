"""Audio chat completions (``audio say|ask|chat``): requests, replies, the SDK client, errors.

The non-realtime sibling of the realtime commands: the same settings, credentials, redaction,
event log, playback and local server, over the ``openai`` SDK's ``chat.completions`` API.
"""
