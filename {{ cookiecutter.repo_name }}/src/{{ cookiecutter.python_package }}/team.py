"""The team's tracking server: check the user may run before any data is read.

Against an ``http(s)://`` tracking URI, ``kedro run`` first asks the server, with the user's
credentials (``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``, or the
``mlflow_tracking`` key of ``conf/local/credentials.yml``), for the project's experiment and tags
it (``mlflow.experimentKind``), which needs the EDIT permission a run needs. A refusal (no
credentials, a wrong password, no EDIT) ends the run in one line naming the user, the
permission and who can grant it. A local store (``sqlite:///``) is not checked.
"""

import os
from typing import Any

from .errors import ProjectError
from .tracking import EXPERIMENT_TAGS

CREDENTIALS_HELP = (
    "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or put them under "
    "'{key}' in conf/local/credentials.yml"
)
GRANTOR = "the server's admin or a user with MANAGE on the experiment"
DOCS = "docs/model-management.md#the-teams-server"


class AccessRefused(ProjectError):
    """The tracking server refused the user (no credentials, wrong password, no permission)."""


def export_credentials(context: Any, key: str | None) -> None:
    """Put the MLflow variables of ``conf/local/credentials.yml`` (``key``) in the environment.

    What kedro-mlflow does when its context is set up; done here first, to check them.
    """
    if not key:
        return
    from kedro.config import MissingConfigException

    try:
        credentials = context.config_loader["credentials"] or {}
    except (KeyError, MissingConfigException):  # no credentials file at all
        return
    for name, value in (credentials.get(key) or {}).items():
        os.environ[str(name)] = str(value)


def check_tracking_access(context: Any) -> None:
    """Refuse, in one line, a user the tracking server would not let record this run."""
    server = _team_server(context)
    if server is None:  # a local store, or no mlflow.yml (kedro-mlflow says what it does then)
        return
    uri, mlflow_conf = server
    key = mlflow_conf["server"].get("credentials")
    experiment = str(mlflow_conf["tracking"]["experiment"]["name"])
    check_access(uri, experiment, credentials_key=key or "mlflow_tracking")


def _request_options() -> tuple[str, dict[str, Any]]:
    """The user, and the credentials and timeout of a request, as MLflow's client sends them."""
    user = os.environ.get("MLFLOW_TRACKING_USERNAME") or ""
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD") or ""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    return user, {
        "auth": (user, password) if user else None,
        "headers": {"Authorization": f"Bearer {token}"} if token and not user else None,
        "timeout": float(os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")),
    }


def _refuse_unknown(answer: Any, user: str, where: str, credentials_key: str) -> None:
    """Raise ``AccessRefused`` for a 401: no credentials, or a user the server does not know."""
    if answer.status_code != 401:
        return
    if not user:
        raise AccessRefused(
            f"{where} asks who you are: {CREDENTIALS_HELP.format(key=credentials_key)}. "
            f"The server's admin creates accounts ({DOCS})."
        )
    raise AccessRefused(
        f"{where} refused user {user!r}: wrong password or no such user. The server's "
        f"admin can create the account or reset its password ({DOCS})."
    )


def check_access(uri: str, experiment: str, credentials_key: str = "mlflow_tracking") -> None:
    """Ask ``uri`` for ``experiment`` and tag it as the user; raise ``AccessRefused`` if refused."""
    import requests

    user, request = _request_options()
    where = f"the tracking server {uri}"
    try:
        answer = requests.get(
            f"{uri}/api/2.0/mlflow/experiments/get-by-name",
            params={"experiment_name": experiment},
            **request,
        )
    except requests.ConnectionError:  # at once, not after MLflow's retries (settings.py)
        raise AccessRefused(
            f"the MLflow tracking server at {uri} could not be reached. Check "
            "MLFLOW_TRACKING_URI (or conf/<env>/mlflow.yml) and that the server is up"
        ) from None
    except requests.RequestException:
        return  # slow to answer: MLflow's own requests retry, then end the run in one line
    _refuse_unknown(answer, user, where, credentials_key)
    if answer.status_code == 403:
        raise AccessRefused(
            f"user {user!r} may not read experiment {experiment!r} on {where}: a run needs "
            f"EDIT on it; {GRANTOR} can grant it ({DOCS})."
        )
    if answer.status_code == 404:
        return  # not created yet: the user's first run creates it (and gets MANAGE on it)
    _refuse_server_error(answer, where)
    found = answer.json()["experiment"]
    # The tag every run of the project's experiment carries; writing it asks for EDIT.
    for name, value in EXPERIMENT_TAGS.items():
        wrote = requests.post(
            f"{uri}/api/2.0/mlflow/experiments/set-experiment-tag",
            json={"experiment_id": found["experiment_id"], "key": name, "value": value},
            **request,
        )
        if wrote.status_code == 403:
            raise AccessRefused(
                f"user {user or '(anonymous)'!r} may not record runs in experiment "
                f"{experiment!r} on {where}: that needs EDIT on it; {GRANTOR} can grant it "
                f"({DOCS})."
            )
        _refuse_server_error(wrote, where)


def _refuse_server_error(answer: Any, where: str) -> None:
    """Raise ``AccessRefused`` naming the server's own failure (e.g. its database is down)."""
    if answer.status_code >= 500:
        raise AccessRefused(
            f"{where} failed to answer (HTTP {answer.status_code}): its database may be down; "
            f"the server's admin can see why in its log ({DOCS})"
        )
    answer.raise_for_status()


def _team_server(context: Any) -> tuple[str, dict[str, Any]] | None:
    """The ``http(s)://`` tracking URI and the MLflow configuration it comes from, credentials
    exported to the environment; None for a local store (or no ``mlflow.yml``)."""
    from kedro.config import MissingConfigException

    try:
        mlflow_conf = context.config_loader["mlflow"]
    except MissingConfigException:
        return None
    uri = str(mlflow_conf["server"]["mlflow_tracking_uri"]).rstrip("/")
    if not uri.startswith(("http://", "https://")):
        return None
    export_credentials(context, mlflow_conf["server"].get("credentials"))
    return uri, mlflow_conf


def tracking_server(context: Any) -> str | None:
    """The ``http(s)://`` tracking URI of the project's MLflow configuration, credentials exported
    to the environment; None for a local store."""
    server = _team_server(context)
    return None if server is None else server[0]


def check_may_manage_model(uri: str, model: str, action: str) -> None:
    """Refuse, in one line, a user without MANAGE on registered model ``model`` (admins may).

    MLflow lets EDIT move an alias; the project keeps moving the champion to MANAGE
    (``conf/base/team_access.yml``): the data science lead, the ML engineer, the admin.
    """
    import requests

    user, request = _request_options()
    where = f"the tracking server {uri}"
    try:
        me = requests.get(f"{uri}/api/2.0/mlflow/users/get", params={"username": user}, **request)
    except requests.RequestException as error:
        raise AccessRefused(f"{where} did not answer ({type(error).__name__})") from None
    _refuse_unknown(me, user, where, "mlflow_tracking")
    if me.status_code == 404:  # a server without accounts: nobody to check
        return
    _refuse_server_error(me, where)
    if me.json()["user"].get("is_admin"):
        return
    answer = requests.get(
        f"{uri}/api/3.0/mlflow/users/permissions/get",
        params={"username": user, "resource_type": "registered_model", "resource_id": model},
        **request,
    )
    _refuse_server_error(answer, where)
    permission = answer.json().get("permission", "NO_PERMISSIONS")
    if permission != "MANAGE":
        raise AccessRefused(
            f"user {user!r} may not {action} on {where}: that needs MANAGE on registered model "
            f"{model!r} (the user has {permission}); the server's admin or a user with MANAGE "
            f"on the model (data science lead, ML engineer) can grant it ({DOCS})"
        )
