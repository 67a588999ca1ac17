"""Honest MLflow run status: an interrupted run ends KILLED, an abandoned one is found and closed.

- SIGINT (Ctrl-C) and SIGTERM (a CI cancellation, a scheduler's timeout) during ``kedro run``
  raise ``RunInterrupted`` (a ``KeyboardInterrupt``), so the run unwinds and exits non-zero.
  At exit, before MLflow's own exit handler would end the still-active run as FINISHED, the run
  is ended KILLED with tags ``interrupted.signal`` and ``interrupted.last_completed_node``.
  A run that stops on any other error and is still active at exit ends FAILED.
- A run left RUNNING by a process that died without a word (kill -9, power loss) is found by the
  next ``kedro run`` in the same store and experiment, reported and marked KILLED. Each run
  records the host, pid and start time of its process (tags ``run.host``, ``run.pid``,
  ``run.process_start``); a RUNNING run is closed only when it was recorded on this host and that
  process is gone (same pid *and* start time, so a recycled pid or a reboot does not fool it).
  A run recorded on another host, or without these tags, is never touched: a run that another
  live process is running right now is not killed.

Anything that picks "the latest run" uses ``latest_complete_run``: FINISHED, with every gate.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

GATES = ("gate.validation", "gate.benchmark", "gate.fairness")
PROCESS_TAGS = ("run.host", "run.pid", "run.process_start")
HANDLED_SIGNALS = ("SIGINT", "SIGTERM")


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM)."""


def _process_start(pid: int) -> str:
    """Boot id and start time of process ``pid`` (Linux); '' where /proc does not tell."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces: skip past it
    return f"{boot}:{fields[19]}"  # field 22 of stat: start time in clock ticks after boot


def process_tags() -> dict[str, str]:
    """Tags naming this process, to tell later whether the run's process is still alive."""
    pid = os.getpid()
    return {
        "run.host": socket.gethostname(),
        "run.pid": str(pid),
        "run.process_start": _process_start(pid),
    }


def process_gone(tags: dict[str, str]) -> bool:
    """Whether the process a run's tags name has certainly ended (False when unsure)."""
    if tags.get("run.host") != socket.gethostname() or not tags.get("run.pid", "").isdigit():
        return False  # another machine's run, or one that did not say: never touch it
    pid = int(tags["run.pid"])
    recorded = tags.get("run.process_start", "")
    if recorded and _process_start(os.getpid()):  # /proc works here: compare start times
        return _process_start(pid) != recorded
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def close_abandoned_runs(client: Any, experiment_id: str, current_run_id: str) -> list[str]:
    """Mark KILLED the RUNNING runs of this experiment whose process is gone; return their ids."""
    closed = []
    running = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=200
    )
    for run in running:
        if run.info.run_id == current_run_id or not process_gone(run.data.tags):
            continue
        reason = (
            f"process {run.data.tags['run.pid']} on {run.data.tags['run.host']} ended without "
            f"closing the run (found by run {current_run_id})"
        )
        client.set_tag(run.info.run_id, "interrupted.signal", "unknown (process gone)")
        client.set_tag(run.info.run_id, "interrupted.reason", reason)
        client.set_terminated(run.info.run_id, "KILLED")
        logger.warning(
            "MLflow run %s (%s) was left RUNNING: its %s. Marked KILLED.",
            run.info.run_id,
            run.info.run_name,
            reason,
        )
        closed.append(run.info.run_id)
    return closed


def is_complete(run: Any) -> bool:
    """A run that finished and recorded every gate's verdict."""
    return run.info.status == "FINISHED" and all(gate in run.data.tags for gate in GATES)


def latest_complete_run(client: Any, experiment_id: str, pipeline: str = "__default__") -> Any:
    """The latest FINISHED run of ``pipeline`` with every gate recorded, or None."""
    runs = client.search_runs(
        [experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=200,
    )
    for run in runs:
        name = run.data.tags.get("kedro.pipeline", run.data.tags.get("mlflow.runName"))
        if name == pipeline and is_complete(run):
            return run
    return None


class InterruptGuard:
    """While a pipeline runs: turn SIGINT/SIGTERM into ``RunInterrupted``; end the run honestly."""

    def __init__(self) -> None:
        self.run_id: str | None = None
        self.signal_name: str | None = None
        self.last_node: str | None = None
        self.previous: dict[int, Any] = {}
        self.registered = False

    def start(self, run_id: str) -> None:
        """Guard run ``run_id``: call from the main thread once the MLflow run is active."""
        self.run_id, self.signal_name, self.last_node = run_id, None, None
        if not self.registered:  # after MLflow's exit handler, so it runs before it
            atexit.register(self._at_exit)
            self.registered = True
        try:
            for name in HANDLED_SIGNALS:
                number = getattr(signal, name)
                self.previous[number] = signal.signal(number, self._on_signal)
        except ValueError:  # not the main thread (e.g. a server): leave signals alone
            self.previous = {}

    def node_completed(self, name: str) -> None:
        self.last_node = name

    def stop(self) -> None:
        """The run has ended (finished, or failed and closed by kedro-mlflow): stand down."""
        self._restore()
        self.run_id = None

    def _restore(self) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        self.previous = {}

    def _on_signal(self, number: int, frame: Any) -> None:
        self.signal_name = signal.Signals(number).name
        self._restore()  # a second Ctrl-C behaves as usual
        raise RunInterrupted(f"{self.signal_name} received")

    def _at_exit(self) -> None:
        """End the run KILLED (signal) or FAILED (anything else) if it is still active."""
        import mlflow

        active = mlflow.active_run()
        if self.run_id is None or active is None or active.info.run_id != self.run_id:
            return
        ignored = {getattr(signal, name): signal.SIG_IGN for name in HANDLED_SIGNALS}
        previous = {number: signal.signal(number, handler) for number, handler in ignored.items()}
        try:
            status = "KILLED" if self.signal_name else "FAILED"
            tags = {"interrupted.last_completed_node": self.last_node or "none"}
            if self.signal_name:
                tags["interrupted.signal"] = self.signal_name
            try:  # the metrics held for the end of the run (datasets.RunMetrics)
                from .datasets import RUN_METRICS

                RUN_METRICS.flush()
            except Exception as error:
                logger.warning("Could not write the run's metrics to MLflow: %s", error)
            try:
                mlflow.set_tags(tags)
                mlflow.end_run(status)
            except Exception as error:  # the tracking server is gone: say so, in one line
                logger.warning(
                    "Could not mark MLflow run %s %s (%s); the next kedro run from this host "
                    "marks it KILLED.",
                    self.run_id,
                    status,
                    type(error).__name__,
                )
                return
            logger.warning(
                "Run stopped%s after node %s: MLflow run %s marked %s.",
                f" by {self.signal_name}" if self.signal_name else "",
                repr(self.last_node) if self.last_node else "(none completed)",
                self.run_id,
                status,
            )
        finally:
            self.run_id = None
            for number, handler in previous.items():
                signal.signal(number, handler)


def _freeze_garbage_collector() -> None:
    import gc

    gc.disable()
    gc.freeze()


def skip_final_garbage_collection() -> None:
    """At exit, after every other exit handler, leave the heap to the operating system.

    With mlflow, Great Expectations, scikit-learn and matplotlib loaded, Python's last garbage
    collections walk millions of objects: 2-3 s on 2 cores after a run has finished and said
    so. Freezing the collector skips that walk only; files, stores and logs are closed by the
    exit handlers that run before this one (registered first, it runs last).
    """
    atexit.register(_freeze_garbage_collector)
