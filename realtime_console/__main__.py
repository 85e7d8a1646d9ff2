"""``python -m realtime_console``."""

from realtime_console.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
