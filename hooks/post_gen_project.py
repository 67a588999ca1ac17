"""Apply the template options to the rendered project; nothing else."""

import json
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
SAMPLE_FILES = ("applications.csv", "bureau.db", "manifest.json")


def wants_sample_data(answer: object) -> bool:
    """Read a yes/no answer given as a boolean or as text ("yes", "no", "true"...)."""
    return str(answer).strip().lower() in {"y", "yes", "true", "1"}


if __name__ == "__main__":
    if not wants_sample_data(ANSWERS["include_sample_data"]):
        raw = Path("data") / "01_raw"
        for name in SAMPLE_FILES:
            (raw / name).unlink(missing_ok=True)
