"""Check the template answers before anything is written.

Cookiecutter runs this hook before it renders any file; a non-zero exit makes it
delete the (still empty) project folder, so a refused answer leaves nothing behind.
Each problem is reported on one line that says what is wrong and what would be accepted.
"""

import json
import keyword
import re
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | jsonify }}""")

# Import names of the generated project's dependencies: a package with one of these
# names would shadow the library and break the project in confusing ways.
DEPENDENCY_IMPORT_NAMES = {
    "kedro",
    "kedro_datasets",
    "kedro_viz",
    "kedro_mlflow",
    "mlflow",
    "sklearn",
    "scikit_learn",
    "pandas",
    "numpy",
    "scipy",
    "great_expectations",
    "fairlearn",
    "matplotlib",
    "pyarrow",
    "sqlalchemy",
    "pytest",
    "ruff",
    "click",
    "yaml",
    "omegaconf",
    "pydantic",
    "jinja2",
    "skops",
    "cookiecutter",
    "ipython",
    "jupyter",
}
YES = {"y", "yes", "true", "1"}
NO = {"n", "no", "false", "0"}
REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
TRACKING_SCHEMES = ("sqlite:///", "http://", "https://", "postgresql", "mysql", "mssql", "databricks")


def problems(answers: dict) -> list[str]:
    """Return one message per unacceptable answer."""
    found = []
    package = str(answers.get("python_package", ""))
    if not package.isidentifier() or not package.isascii():
        found.append(
            f"python_package {package!r} is not a Python identifier: use lower-case "
            "letters, digits and underscores, starting with a letter (e.g. loan_default_risk)."
        )
    elif keyword.iskeyword(package) or keyword.issoftkeyword(package):
        found.append(f"python_package {package!r} is a Python keyword: choose another name.")
    elif package in sys.stdlib_module_names:
        found.append(
            f"python_package {package!r} shadows the standard-library module of that name: "
            f"choose another name (e.g. {package}_project)."
        )
    elif package.lower() in DEPENDENCY_IMPORT_NAMES:
        found.append(
            f"python_package {package!r} shadows the dependency {package.lower()!r}: "
            f"choose another name (e.g. {package}_project)."
        )
    elif package != package.lower():
        found.append(f"python_package {package!r} has capitals: use {package.lower()!r}.")

    repo = str(answers.get("repo_name", ""))
    if not REPO_NAME.match(repo) or repo in {".", ".."}:
        found.append(
            f"repo_name {repo!r} is not a safe folder name: use 1-100 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (e.g. loan-default-risk)."
        )

    sample = str(answers.get("include_sample_data", "")).strip().lower()
    if sample not in YES | NO:
        found.append(f"include_sample_data {sample!r} is not a yes/no answer: use yes or no.")

    uri = str(answers.get("mlflow_tracking_uri", "")).strip()
    if not uri.startswith(TRACKING_SCHEMES):
        found.append(
            f"mlflow_tracking_uri {uri!r} is not supported: use sqlite:///mlflow.db (a SQLite "
            "file at the project root) or a server's http(s):// URI. MLflow 3 refuses a plain "
            "folder (file store) as its tracking store."
        )

    email = str(answers.get("author_email", ""))
    if email and not re.match(r"^[^@\s]+@[^@\s]+$", email):
        found.append(f"author_email {email!r} is not an e-mail address: use name@domain.")
    return found


if __name__ == "__main__":
    messages = problems(ANSWERS)
    for message in messages:
        print(f"ERROR: {message}", file=sys.stderr)
    if messages:
        print("Nothing was written. Fix the answers above and run the template again.", file=sys.stderr)
        sys.exit(1)
