"""Apply the template options to the rendered project; nothing else."""

import json
import shutil
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")
SAMPLE_FILES = ("applications.csv", "bureau.db", "manifest.json")


def wants_sample_data(answer: object) -> bool:
    """Read a yes/no answer given as a boolean or as text ("yes", "no", "true"...)."""
    return str(answer).strip().lower() in {"y", "yes", "true", "1"}


def write_answers(path: Path) -> None:
    """Record the answers and template version the project was made from (for the audit trail)."""
    answers = {k: v for k, v in ANSWERS.items() if not k.startswith("_")}
    answers["_template_version"] = ANSWERS.get("_template_version", "unknown")
    path.write_text(json.dumps(answers, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_answers(Path(".template-answers.json"))
    if not wants_sample_data(ANSWERS["include_sample_data"]):
        raw = Path("data") / "01_raw"
        for name in SAMPLE_FILES:
            (raw / name).unlink(missing_ok=True)
        shutil.rmtree(raw / "batches", ignore_errors=True)
