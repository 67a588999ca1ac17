"""The access file of the team's server (conf/base/team_access.yml), as deploy/team_access.py
reads it: the playbook's roles, each user's highest permission, no password in the file. The
template's slow test applies it to a real server."""

import importlib.util
import io
import re

import pytest
import yaml

from .conftest import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "conf/base/team_access.yml"


def team_access():
    spec = importlib.util.spec_from_file_location(
        "team_access", PROJECT_ROOT / "deploy/team_access.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_users(tmp_path, users):
    conf = yaml.safe_load(SHIPPED.read_text())
    conf["users"] = users
    path = tmp_path / "team_access.yml"
    path.write_text(yaml.safe_dump(conf))
    return path


def test_the_shipped_file_maps_every_role_of_the_playbook():
    roles_page = (PROJECT_ROOT / "docs/roles.md").read_text().split("## Responsibility matrix")[0]
    playbook_roles = re.findall(r"^\| \*\*(.+?)\*\*", roles_page, flags=re.MULTILINE)
    roles = yaml.safe_load(SHIPPED.read_text())["roles"]
    assert len(roles) == len(playbook_roles) == 9
    access = team_access().read_access(SHIPPED)
    assert access["users"] == {}


def test_a_user_gets_the_highest_permission_of_its_roles(tmp_path):
    path = with_users(
        tmp_path, {"mona": {"roles": ["analyst", "ml_engineer"], "password_env": "X"}}
    )
    wanted = team_access().read_access(path)["users"]["mona"]["wanted"]
    assert wanted == {"experiment": "EDIT", "registered_model": "MANAGE"}


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"roles": ["analyst"], "password": "secret"}, "password in the file"),
        ({"roles": ["astronaut"]}, "unknown: astronaut"),
        ({}, "needs roles"),
    ],
    ids=["password", "unknown-role", "no-role"],
)
def test_a_wrong_entry_is_refused_in_one_line(tmp_path, entry, words):
    module = team_access()
    with pytest.raises(module.AccessFileError, match=words):
        module.read_access(with_users(tmp_path, {"rita": entry}))


def test_a_new_user_without_a_password_is_refused_when_not_at_a_terminal(monkeypatch):
    module = team_access()
    monkeypatch.delenv("PW_NOBODY", raising=False)
    monkeypatch.setattr(module.sys, "stdin", io.StringIO())  # not a terminal
    with pytest.raises(module.AccessFileError, match="set PW_NOBODY"):
        module.password_of("nobody", "PW_NOBODY")
