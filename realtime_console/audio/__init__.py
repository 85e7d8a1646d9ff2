"""Sound in and out: device discovery, the speaker and its jitter buffer, fake streams for tests.

Nothing here imports ``sounddevice`` (or needs PortAudio) until a real stream is opened.
"""
