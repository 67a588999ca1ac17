"""Apply conf/base/team_access.yml to the team's MLflow server: accounts and permissions.

Run by the server's admin (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD in the
environment), with the project's ``team`` extra installed:

    uv run python deploy/team_access.py --tracking-uri https://mlflow.example.org
    uv run python deploy/team_access.py --tracking-uri ... --rotate alice   # a new password

Creates the experiment and the registered model if missing, each listed user that does not
exist (password from the environment variable its ``password_env`` names, or asked for), and
sets each user's permission on both to the highest of its roles'. Idempotent: a second run
changes nothing. Users not in the file are left as they are. See
docs/model-management.md#the-teams-server.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

import yaml

LEVELS = ("READ", "EDIT", "MANAGE")
RESOURCES = ("experiment", "registered_model")
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "conf/base/team_access.yml"


class AccessFileError(Exception):
    """The access file, the environment or the server refused what was asked: one line."""


def read_access(path: Path) -> dict[str, Any]:
    """The access file, checked: each user's wanted permission on each resource."""
    if not path.is_file():
        raise AccessFileError(f"{path} not found: write the team's roles and users there")
    conf = yaml.safe_load(path.read_text()) or {}
    for key in ("experiment", "registered_model"):
        if not conf.get(key):
            raise AccessFileError(f"{path}: '{key}' is missing (the name it grants on)")
    roles = conf.get("roles") or {}
    for role, grants in roles.items():
        for resource in RESOURCES:
            if (grants or {}).get(resource) not in LEVELS:
                raise AccessFileError(
                    f"{path}: role {role!r} needs '{resource}' set to one of {', '.join(LEVELS)}"
                )
    users: dict[str, dict[str, Any]] = {}
    for user, listed in (conf.get("users") or {}).items():
        entry = listed or {}
        if "password" in entry:
            raise AccessFileError(
                f"{path}: user {user!r} has a password in the file: remove it, name an "
                "environment variable under 'password_env' instead"
            )
        unknown = [r for r in entry.get("roles") or [] if r not in roles]
        if unknown or not entry.get("roles"):
            raise AccessFileError(
                f"{path}: user {user!r} needs roles from {', '.join(roles)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        wanted = {
            resource: max((roles[r][resource] for r in entry["roles"]), key=LEVELS.index)
            for resource in RESOURCES
        }
        users[str(user)] = {"wanted": wanted, "password_env": entry.get("password_env")}
    return {
        "experiment": str(conf["experiment"]),
        "registered_model": str(conf["registered_model"]),
        "users": users,
    }


def password_of(user: str, env_name: str | None) -> str:
    """A user's password: the environment variable ``env_name``, or asked at the terminal."""
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    if not sys.stdin.isatty():
        where = f"set {env_name}" if env_name else "name a variable under 'password_env'"
        raise AccessFileError(f"no password for new user {user!r}: {where} or run in a terminal")
    first = getpass.getpass(f"Password for {user}: ")
    if first != getpass.getpass(f"Password for {user} (again): "):
        raise AccessFileError(f"the two passwords for {user!r} differ")
    return first


def _missing(error: Exception) -> bool:
    return str(getattr(error, "error_code", "")) == "RESOURCE_DOES_NOT_EXIST"


def _ensure_resources(client: Any, access: dict[str, Any], changes: list[str]) -> str:
    """Create the experiment and the registered model if missing; the experiment's id."""
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(access["experiment"])
    if experiment is None:
        experiment_id = client.create_experiment(access["experiment"])
        changes.append(f"created experiment {access['experiment']!r}")
    else:
        experiment_id = experiment.experiment_id
    try:
        client.get_registered_model(access["registered_model"])
    except MlflowException as error:
        if not _missing(error):
            raise
        client.create_registered_model(access["registered_model"])
        changes.append(f"created registered model {access['registered_model']!r}")
    return experiment_id


def _ensure_user(
    auth: Any, user: str, entry: dict[str, Any], rotate: bool, changes: list[str]
) -> None:
    """Create ``user`` if missing; give it a new password if ``rotate``."""
    from mlflow.exceptions import MlflowException

    try:
        auth.get_user(user)
    except MlflowException as error:
        if not _missing(error):
            raise
        auth.create_user(user, password_of(user, entry["password_env"]))
        changes.append(f"created user {user!r}")
        return
    if rotate:
        auth.update_user_password(user, password_of(user, entry["password_env"]))
        changes.append(f"new password for {user!r}")


def apply(access: dict[str, Any], tracking_uri: str, rotate: str | None = None) -> list[str]:
    """Make the server match ``access``; return what changed, one line each."""
    import warnings

    # mlflow.server's import of a Starlette module Starlette deprecates: not this script's concern.
    warnings.filterwarnings("ignore", message="starlette.middleware.wsgi is deprecated")
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.server import get_app_client

    if rotate and rotate not in access["users"]:
        raise AccessFileError(f"user {rotate!r} is not in the access file")
    auth = get_app_client("basic-auth", tracking_uri=tracking_uri)
    changes: list[str] = []
    experiment_id = _ensure_resources(
        mlflow.MlflowClient(tracking_uri=tracking_uri), access, changes
    )
    keys = {"experiment": experiment_id, "registered_model": access["registered_model"]}
    for user, entry in access["users"].items():
        _ensure_user(auth, user, entry, user == rotate, changes)
        for resource, wanted in entry["wanted"].items():
            now = auth.get_user_permission(user, resource, keys[resource]).permission
            if now == wanted:
                continue
            try:  # a grant is one row per user and resource: replace it
                auth.revoke_user_permission(user, resource, keys[resource])
            except MlflowException as error:
                if not _missing(error):
                    raise
            auth.grant_user_permission(user, resource, keys[resource], wanted)
            changes.append(f"{user!r}: {wanted} on {resource} {access[resource]!r} (was {now})")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="the access file")
    parser.add_argument(
        "--tracking-uri",
        default=os.environ.get("MLFLOW_TRACKING_URI"),
        help="the team's server (default: MLFLOW_TRACKING_URI)",
    )
    parser.add_argument("--rotate", metavar="USER", help="set a new password for USER")
    args = parser.parse_args(argv)
    try:
        if not str(args.tracking_uri or "").startswith(("http://", "https://")):
            raise AccessFileError("give the team's server: --tracking-uri http(s)://...")
        if not os.environ.get("MLFLOW_TRACKING_USERNAME"):
            raise AccessFileError(
                "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD to the admin's"
            )
        changes = apply(read_access(args.file), args.tracking_uri.rstrip("/"), args.rotate)
    except AccessFileError as error:
        print(f"team_access: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the server's refusal (401, 403, a password it rejects)
        if type(error).__name__ != "MlflowException":
            raise
        print(f"team_access: the server refused: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print("\n".join(changes) if changes else "nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
