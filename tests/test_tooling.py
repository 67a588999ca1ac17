"""The generated project's own tooling: playbook, pre-commit, CI, GitHub templates, notebooks, cruft.

Fast tests read a render; slow tests build the playbook, run pre-commit on a fresh project,
execute the notebooks after the default run, and update a project with cruft from a git
repository of this template.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest
import yaml
from project import TEMPLATE_DIR, render, run, uv
from test_render import OPTION_COMBINATIONS

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{ cookiecutter.repo_name }}"
PLAYBOOK = [
    "index",
    "roles",
    "process",
    "quality",
    "ethics",
    "model-management",
    "production",
    "your-own-data",
]
ISSUE_FORMS = ["data-quality-incident", "model-change-request", "ethics-concern"]
FORM_ELEMENTS = {"markdown", "input", "textarea", "dropdown", "checkboxes"}
# Console scripts the pre-commit hooks run with `uv run --no-sync`, and the package providing each.
HOOK_TOOLS = {
    "ruff": "ruff",
    "nbstripout": "nbstripout",
    "check-yaml": "pre-commit-hooks",
    "check-toml": "pre-commit-hooks",
    "check-json": "pre-commit-hooks",
    "check-merge-conflict": "pre-commit-hooks",
    "check-added-large-files": "pre-commit-hooks",
    "detect-private-key": "pre-commit-hooks",
    "detect-aws-credentials": "pre-commit-hooks",
}
OFFLINE_LANGUAGES = {"system", "unsupported", "fail", "pygrep"}
CRUFT_FROM_PYPI = "cruft==2.16.0"


# --- a small Markdown link checker ---------------------------------------------------------------

FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(markdown: str) -> str:
    """Markdown without code blocks and code spans (links there are not links)."""
    return INLINE_CODE.sub("", FENCED.sub("", markdown))


def slug(heading: str) -> str:
    """The anchor of a heading, as Python-Markdown's toc (MkDocs) and GitHub make it."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCED.sub("", path.read_text()))}


def local_links(path: Path) -> list[str]:
    """Link targets of a Markdown file that point into the repository (not URLs)."""
    return [
        target
        for target in LINK.findall(prose(path.read_text()))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto: ...
    ]


def broken_links(path: Path, root: Path) -> list[str]:
    """Links of ``path`` whose file (inside ``root``) or heading anchor does not exist."""
    broken = []
    for target in local_links(path):
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
            broken.append(f"{path.relative_to(root)}: {target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{path.relative_to(root)}: {target} (no such heading)")
    return broken


def linked_files(path: Path) -> set[Path]:
    return {(path.parent / t.partition("#")[0]).resolve() for t in local_links(path) if t[0] != "#"}


# --- fast: the default render and every option combination -------------------------------------


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("tooling"))


@pytest.mark.parametrize("answers", OPTION_COMBINATIONS, ids=lambda a: ",".join(a) or "defaults")
def test_every_markdown_link_resolves(render_project, answers: dict) -> None:
    project = render_project(**answers)
    markdown = [p for p in project.rglob("*.md") if ".venv" not in p.parts]
    assert project / "docs" / "index.md" in markdown
    problems = [problem for path in markdown for problem in broken_links(path, project)]
    assert not problems, "\n".join(problems)


def test_playbook_pages_are_in_the_site_and_linked_from_the_readme(rendered: Path) -> None:
    config = yaml.safe_load((rendered / "mkdocs.yml").read_text())
    assert config["strict"] is True
    assert config["docs_dir"] == "docs"
    nav = [next(iter(entry.values())) for entry in config["nav"]]
    pages = [f"{name}.md" for name in PLAYBOOK]
    assert nav == pages
    assert sorted(p.name for p in (rendered / "docs").glob("*.md")) == sorted(pages)
    from_readme = linked_files(rendered / "README.md")
    missing = [page for page in pages if (rendered / "docs" / page).resolve() not in from_readme]
    assert not missing, f"README.md does not link to docs/{missing}"
    for name in PLAYBOOK[1:]:  # the index links to every other page
        assert (rendered / "docs" / f"{name}.md").resolve() in linked_files(rendered / "docs" / "index.md")


def test_playbook_names_the_files_that_enforce_it(rendered: Path) -> None:
    """Paths written in the playbook (`conf/...`, `src/...`, ...) exist in the project."""
    text = "\n".join(p.read_text() for p in (rendered / "docs").glob("*.md"))
    paths = re.findall(r"`((?:conf|src|tests|notebooks|docs|\.github)/[^`\s]+)`", text)
    named = {p for p in paths if "<" not in p and "*" not in p}  # not patterns like <pipeline>
    assert len(named) > 20
    to_come = {"conf/base/parameters_monitoring.yml"}  # the monitoring work adds it
    missing = sorted(p for p in named - to_come if not (rendered / p).exists())
    assert not missing, missing


def test_issue_forms_pr_template_and_codeowners(rendered: Path) -> None:
    github = rendered / ".github"
    for name in ISSUE_FORMS:
        form = yaml.safe_load((github / "ISSUE_TEMPLATE" / f"{name}.yml").read_text())
        assert {"name", "description", "body"} <= set(form), name
        ids = [element["id"] for element in form["body"] if "id" in element]
        assert len(ids) == len(set(ids)), name
        for element in form["body"]:
            assert element["type"] in FORM_ELEMENTS, (name, element)
            if element["type"] != "markdown":
                assert element["attributes"]["label"], (name, element)
            if element["type"] == "dropdown":
                assert element["attributes"]["options"], (name, element)
    assert yaml.safe_load((github / "ISSUE_TEMPLATE" / "config.yml").read_text())

    checklist = (github / "pull_request_template.md").read_text()
    assert checklist.count("- [ ]") >= 10
    for gate in ("gate.validation", "gate.benchmark", "gate.fairness"):
        assert gate in checklist

    roles = (rendered / "docs" / "roles.md").read_text()
    patterns = []
    for line in (github / "CODEOWNERS").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        patterns.append(pattern)
        assert owners, line
        for owner in owners:
            assert re.fullmatch(r"@[\w-]+(/[\w.-]+)?", owner), owner
            assert f"`{owner}`" in roles, f"{owner} is not a role in docs/roles.md"
        if pattern != "*":
            assert (rendered / pattern.strip("/")).exists(), f"CODEOWNERS: {pattern} does not exist"
    package = "src/loan_default_risk/pipelines/"
    pipelines = {p.name for p in (rendered / package).iterdir() if (p / "pipeline.py").is_file()}
    assert {f"/{package}{name}/" for name in pipelines} <= set(patterns)


def test_ci_workflow_installs_with_uv_and_runs_every_check(rendered: Path) -> None:
    workflow = yaml.safe_load((rendered / ".github/workflows/ci.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    uses = [step.get("uses", "") for step in steps]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert any(u.startswith("astral-sh/setup-uv@") for u in uses)
    for command in (
        "uv sync",
        "uv run pre-commit run --all-files",
        'uv run pytest -m "not slow"',
        "uv run kedro run",
        "uv run pytest -m slow",
        "uv run mkdocs build --strict",
    ):
        assert command in commands, command
    assert commands.index("uv run kedro run") < commands.index("uv run pytest -m slow")


def test_pre_commit_runs_only_local_tools_of_the_project(rendered: Path) -> None:
    config = yaml.safe_load((rendered / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    required = {"ruff-check", "ruff-format", "check-yaml", "check-toml", "nbstripout"}
    assert required | {"check-added-large-files", "detect-private-key"} <= set(hooks)
    pyproject = tomllib.loads((rendered / "pyproject.toml").read_text())
    groups = pyproject["dependency-groups"]
    declared = {
        re.split(r"[<>=~!\[; ]", requirement, maxsplit=1)[0].lower()
        for group in groups.values()
        for requirement in group
        if isinstance(requirement, str)
    }
    assert "pre-commit" in declared
    for hook in hooks.values():
        assert hook["language"] in OFFLINE_LANGUAGES, hook["id"]
        assert "additional_dependencies" not in hook, hook["id"]
        if hook["language"] in {"system", "unsupported"}:
            words = hook["entry"].split()
            assert words[:3] == ["uv", "run", "--no-sync"], hook["id"]
            assert HOOK_TOOLS[words[3]] in declared, f"{words[3]} is not a project dependency"


@pytest.mark.parametrize(
    ("line", "flagged"),
    [
        ("password: hunter2", True),
        ("  api_key: 'abc123'", True),
        ("aws_secret_access_key: AKIAXXXX", True),
        ("mlflow_tracking_token: abc", True),
        ("token: null", False),
        ("password: ~", False),
        ('secret: ""', False),
        ("password: ${oc.env:DB_PASSWORD}", False),
        ("credentials: null # a key of conf/local/credentials.yml", False),
        ("max_quarantined_share: 0.05", False),
    ],
)
def test_secret_guard_on_configuration(rendered: Path, line: str, flagged: bool) -> None:
    config = yaml.safe_load((rendered / ".pre-commit-config.yaml").read_text())
    hook = next(h for h in config["repos"][0]["hooks"] if h["id"] == "no-secrets-in-conf")
    assert bool(re.search(hook["entry"].encode(), line.encode())) is flagged  # pygrep: bytes


def test_notebooks_are_stripped_and_use_the_kedro_extension(rendered: Path) -> None:
    notebooks = sorted((rendered / "notebooks").glob("*.ipynb"))
    assert [n.name for n in notebooks] == ["01_explore_catalog.ipynb", "02_latest_run_results.ipynb"]
    for path in notebooks:
        template_copy = PROJECT_TEMPLATE / "notebooks" / path.name
        assert path.read_bytes() == template_copy.read_bytes(), "Jinja changed the notebook"
        nb = json.loads(path.read_text())
        assert nb["nbformat"] == 4
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), path.name
        assert "%load_ext kedro.ipython" in "".join(code[0]["source"])
    cells = json.loads((rendered / "notebooks/02_latest_run_results.ipynb").read_text())["cells"]
    results = "".join("".join(cell["source"]) for cell in cells)
    for namespace in ('"test"', '"benchmark"', '"fairness"', "RUN_ID = None"):
        assert namespace in results


def test_template_docs_explain_cruft_updates() -> None:
    readme = TEMPLATE_DIR / "README.md"
    assert (TEMPLATE_DIR / "docs/updating-projects.md").resolve() in linked_files(readme)
    text = (TEMPLATE_DIR / "docs/updating-projects.md").read_text()
    for command in ("cruft create", "cruft check", "cruft update", "cruft link"):
        assert command in text
    for path in [readme, *sorted((TEMPLATE_DIR / "docs").glob("*.md"))]:
        assert not broken_links(path, TEMPLATE_DIR), broken_links(path, TEMPLATE_DIR)


# --- slow: build, run and update for real -------------------------------------------------------

EXECUTE_NOTEBOOK = """
import sys
import nbformat
from nbclient import NotebookClient

source, folder, out, run_id = sys.argv[1:5]
nb = nbformat.read(source, as_version=4)
for cell in nb.cells:
    if cell.cell_type == "code" and cell.source.startswith("RUN_ID = None") and run_id:
        cell.source = cell.source.replace("RUN_ID = None", f"RUN_ID = {run_id!r}", 1)
NotebookClient(nb, timeout=600, resources={"metadata": {"path": folder}}).execute()
nbformat.write(nb, out)
"""


def outputs(nb: dict) -> tuple[str, int]:
    """All text a notebook printed or displayed, and how many images it showed."""
    texts, images = [], 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")))
            data = out.get("data", {})
            texts.append("".join(data.get("text/plain", "")))
            images += "image/png" in data
    return "\n".join(texts), images


@pytest.mark.slow
def test_playbook_builds_strict(default_project, tmp_path: Path) -> None:
    mkdocs = default_project.root / ".venv/bin/mkdocs"
    done = run(default_project.root, str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path))
    assert "Documentation built" in done.stdout + done.stderr
    for name in PLAYBOOK:
        page = tmp_path / ("index.html" if name == "index" else f"{name}/index.html")
        assert page.is_file(), page


@pytest.mark.slow
def test_pre_commit_passes_on_a_fresh_project(default_project, tmp_path: Path) -> None:
    project = render(tmp_path / "fresh")
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    run(project, *git, "init", "--quiet")
    run(project, *git, "add", "--all")
    env = {  # hooks call `uv run --no-sync <tool>`: uv on PATH, the venv NOT activated
        "UV_PROJECT_ENVIRONMENT": str(default_project.root / ".venv"),  # where the tools are
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PATH": os.pathsep.join([str(Path(uv()[0]).parent), os.environ["PATH"]]),
    }
    pre_commit = str(default_project.root / ".venv/bin/pre-commit")
    done = run(project, pre_commit, "run", "--all-files", "--show-diff-on-failure", check=False, **env)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Failed" not in done.stdout
    assert run(project, "git", "diff", "--name-only").stdout.strip() == "", "a hook changed files"

    (project / "conf/base/parameters_leak.yml").write_text("service:\n  api_key: abc123\n")
    run(project, *git, "add", "--all")
    leak = run(project, pre_commit, "run", "no-secrets-in-conf", "--all-files", check=False, **env)
    assert leak.returncode == 1
    assert "conf/base/parameters_leak.yml" in leak.stdout


@pytest.mark.slow
def test_notebooks_run_after_the_default_run(default_project, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=default_project.tracking_uri)
    experiment = client.get_experiment_by_name(default_project.package)
    first = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])[0]
    python = str(default_project.root / ".venv/bin/python")
    folder = default_project.root / "notebooks"
    printed = {}
    for name in ("01_explore_catalog", "02_latest_run_results"):
        out = tmp_path / f"{name}.ipynb"
        run_id = first.info.run_id if name.startswith("02") else ""
        run(folder, python, "-c", EXECUTE_NOTEBOOK, f"{name}.ipynb", str(folder), str(out), run_id)
        printed[name] = outputs(json.loads(out.read_text()))

    explore, images = printed["01_explore_catalog"]
    assert "not produced yet" not in explore
    assert re.search(r"raw [\d,]+ = validated [\d,]+ \+ quarantined [\d,]+ \(True\)", explore)
    assert images >= 1

    results, images = printed["02_latest_run_results"]
    assert f"run {first.info.run_id}" in results
    assert images >= 1  # the benchmark plot
    for prefix in ("test", "benchmark", "fairness"):
        produced = any(k.startswith(f"{prefix}.") for k in first.data.metrics)
        assert (f"No {prefix}.* results" not in results) is produced, prefix
    assert "roc_auc" in results


def template_repository(destination: Path) -> Path:
    """A copy of this template's working tree (tracked and new files), to make a git repository of."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:  # not a git checkout (e.g. an unpacked archive): copy it
        junk = shutil.ignore_patterns(".git", ".venv", "build", "*_cache", "__pycache__", "site")
        return Path(shutil.copytree(TEMPLATE_DIR, destination, ignore=junk))
    for name in filter(None, listed.stdout.split("\0")):
        source = TEMPLATE_DIR / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.mark.slow
def test_cruft_create_check_update(tmp_path: Path) -> None:
    found = shutil.which("cruft", path=str(Path(sys.executable).parent)) or shutil.which("cruft")
    cruft = [found] if found else [*uv(), "tool", "run", "--from", CRUFT_FROM_PYPI, "cruft"]
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com"]
    template = template_repository(tmp_path / "template")
    run(template, *git, "init", "--quiet")
    run(template, *git, "add", "--all")
    run(template, *git, "commit", "--quiet", "-m", "Template")

    run(tmp_path, *cruft, "create", str(template), "--no-input", "--output-dir", str(tmp_path / "out"))
    project = tmp_path / "out" / "loan-default-risk"
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template)
    run(project, *git, "init", "--quiet")
    run(project, *git, "add", "--all")
    run(project, *git, "commit", "--quiet", "-m", "Project from the template")
    assert run(project, *cruft, "check", check=False).returncode == 0

    page = template / "{{ cookiecutter.repo_name }}" / "docs" / "index.md"
    page.write_text(page.read_text() + "\nA line the template added later.\n")
    run(template, *git, "commit", "--quiet", "-am", "Template change")
    assert run(project, *cruft, "check", check=False).returncode != 0

    run(project, *cruft, "update", "-y")
    assert (project / "docs/index.md").read_text().endswith("A line the template added later.\n")
    assert run(project, *cruft, "check", check=False).returncode == 0
