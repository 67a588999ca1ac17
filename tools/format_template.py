"""Ruff-format and fix the generated project's Python by rendering it, then copy the result back.

The template's files hold Jinja names (``{{ cookiecutter.python_package }}``) that ruff cannot
parse, so they are formatted in a default render and written back with the names restored.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from project import TEMPLATE_DIR, render

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{ cookiecutter.repo_name }}"
PACKAGE = "formatting_probe_pkg"  # unique, so it is safe to replace back


def main(only: list[str]) -> int:
    """Format every template .py file, or only those whose path contains one of ``only``."""
    with tempfile.TemporaryDirectory() as tmp:
        project = render(Path(tmp), project_name="formatting probe pkg", include_sample_data="no")
        subprocess.run([sys.executable, "-m", "ruff", "check", "--fix", "."], cwd=project, check=False)
        subprocess.run([sys.executable, "-m", "ruff", "format", "."], cwd=project, check=True)
        changed = 0
        for rendered in project.rglob("*.py"):
            relative = str(rendered.relative_to(project)).replace(
                PACKAGE, "{{ cookiecutter.python_package }}"
            )
            source = PROJECT_TEMPLATE / relative
            if only and not any(part in str(source) for part in only):
                continue
            text = rendered.read_text().replace(PACKAGE, "{{ cookiecutter.python_package }}")
            if source.read_text() != text:
                source.write_text(text)
                changed += 1
        print(f"{changed} template file(s) reformatted")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
