"""The notebooks run from top to bottom in the project's environment, with or without a run."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def execute(notebook: Path, folder: Path) -> nbformat.NotebookNode:
    """Execute ``notebook`` with ``folder`` as working directory; raise on a failing cell."""
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def printed(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook's cells printed."""
    return "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_before_any_run(notebook: Path, project_copy: Path) -> None:
    """In a fresh copy (no outputs, empty MLflow store) each notebook says what is missing."""
    folder = project_copy / "notebooks"
    shutil.copytree(PROJECT_ROOT / "notebooks", folder, ignore=shutil.ignore_patterns(".*"))
    nb = execute(folder / notebook.name, folder)
    assert "not produced yet" in printed(nb) or "No run in experiment" in printed(nb)
