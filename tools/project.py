"""Render, install and run a project from this template (used by the demo, the tests and the bench)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
QUIET_ENV = {"KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "false"}


def project_env(**extra: str) -> dict[str, str]:
    """Environment for commands run in a generated project: telemetry off, no outer venv."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}}
    return {**env, **QUIET_ENV, **extra}


def render(output_dir: Path, **context: object) -> Path:
    """Render the template into ``output_dir`` with cookiecutter; return the project folder."""
    from cookiecutter.main import cookiecutter

    output_dir.mkdir(parents=True, exist_ok=True)
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(output_dir), extra_context=context)
    )


def free_port(low: int = 20000, high: int = 49151) -> int:
    """A free loopback TCP port below 49152.

    Not port 0: the kernel's ephemeral range reaches 60999, and ``kedro viz run`` refuses any
    port above 49151 ("Cannot allocate an open TCP port").
    """
    import random
    import socket

    for port in random.sample(range(low, high + 1), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free loopback port between {low} and {high}")


def stop_process_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a server started with ``start_new_session=True`` and every child it spawned."""
    import signal

    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def uv() -> list[str]:
    """The uv command: the executable if on PATH, else the module of this Python."""
    from shutil import which

    found = which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def run(
    project: Path, *args: str, check: bool = True, timeout: float = 1800, **env: str
) -> subprocess.CompletedProcess:
    """Run a command in the project with its output captured; raise with the output on failure."""
    done = subprocess.run(
        list(args), cwd=project, env=project_env(**env), capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"`{' '.join(args)}` failed in {project} with exit code {done.returncode}\n"
            f"--- stdout ---\n{done.stdout[-6000:]}\n--- stderr ---\n{done.stderr[-6000:]}"
        )
    return done


def install(project: Path, compile_bytecode: bool = True) -> float:
    """``uv sync`` the project into its own .venv (Python 3.11); return the seconds it took.

    With ``compile_bytecode`` the environment and the project's ``src`` are compiled once here:
    where PYTHONDONTWRITEBYTECODE is set (as on CI machines), every ``kedro`` command would
    otherwise compile all it imports again, about 5 s each on 2 cores.
    """
    start = time.perf_counter()
    flags = ["--compile-bytecode"] if compile_bytecode else []
    run(project, *uv(), "sync", "--python", sys.executable, "--quiet", *flags)
    if compile_bytecode:
        python = str(project / ".venv" / "bin" / "python")
        run(project, python, "-m", "compileall", "-q", "src")
    return time.perf_counter() - start


def kedro(project: Path, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run ``kedro <args>`` with the project's own environment."""
    return run(project, str(project / ".venv" / "bin" / "kedro"), *args, check=check, **env)


def python_json(project: Path, code: str, *args: str) -> object:
    """Run ``code`` with the project's own Python; return the JSON its last output line holds.

    For reading results with the project's libraries (e.g. loading its model through MLflow),
    which the template's own environment does not have.
    """
    done = run(project, str(project / ".venv" / "bin" / "python"), "-c", code, *args, check=False)
    if done.returncode != 0:
        raise AssertionError(done.stderr[-4000:])
    return json.loads(done.stdout.strip().splitlines()[-1])
