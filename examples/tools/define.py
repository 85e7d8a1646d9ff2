"""A command handler for examples/tools/tools.toml: the arguments arrive as JSON on stdin.

It prints its result on stdout. An unknown word is a failure: a message on stderr and exit
code 1, which the console hands to the model as an error result.
"""

from __future__ import annotations

import json
import sys

GLOSSARY = {
    "realtime": "Happening as it is spoken, with no noticeable delay.",
    "latency": "The time between asking and the first sound of the answer.",
    "vad": "Voice activity detection: telling speech from silence.",
}


def main() -> int:
    arguments = json.load(sys.stdin)
    word = str(arguments.get("word", "")).strip().lower()
    meaning = GLOSSARY.get(word)
    if meaning is None:
        print(f"no definition for {word!r}", file=sys.stderr)
        return 1
    print(json.dumps({"word": word, "definition": meaning}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
