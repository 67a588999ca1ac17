"""Quality gates: validation, benchmark and fairness each end in a verdict: pass, warn or fail.

What a fail does is configured per gate (``on_fail``): ``stop`` ends the run with a message
naming what failed and where the report is; ``flag`` finishes the run, leaves the verdict on
it (MLflow tag ``gate.<name>``) and keeps the model from being promoted.
"""

import logging

from .errors import ConfigError, GateFailed

logger = logging.getLogger(__name__)

VERDICTS = ("pass", "warn", "fail")
ON_FAIL = ("stop", "flag")


def worst(*verdicts: str) -> str:
    """The most severe of some verdicts (``fail`` > ``warn`` > ``pass``)."""
    return max(verdicts, key=VERDICTS.index, default="pass")


def gate_tags(gate: str, verdict: str) -> dict[str, str]:
    """MLflow tags for a gate's verdict."""
    if verdict not in VERDICTS:
        raise ValueError(f"Verdict {verdict!r} is not one of {VERDICTS}")
    return {f"gate.{gate}": verdict}


def check_on_fail(gate: str, on_fail: str, parameters_file: str) -> None:
    """Refuse an ``on_fail`` that is neither ``stop`` nor ``flag``, naming the file and key."""
    if on_fail not in ON_FAIL:
        raise ConfigError(
            f"{gate}.on_fail in {parameters_file} is {on_fail!r}; use one of {list(ON_FAIL)}."
        )


def enforce_gate(gate: str, verdict: str, on_fail: str, reasons: list[str], report: str) -> None:
    """Stop the run on a failed gate with ``on_fail: stop``; otherwise log the verdict."""
    if verdict != "fail":
        logger.info("%s gate: %s", gate, verdict)
        return
    detail = "; ".join(reasons) or "see the report"
    if on_fail == "stop":
        raise GateFailed(f"The {gate} gate failed: {detail}. Report: {report}")
    logger.warning("%s gate FAILED (flagged, run continues): %s. Report: %s", gate, detail, report)
