"""Reports people read: one HTML page per validated dataset and a one-screen text summary."""

from html import escape
from typing import Any

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.pass { color: #176f2c; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
code { font-size: 0.85rem; }
"""


def _cell(value: Any) -> str:
    return escape("" if value is None else str(value))


def render_html(result: dict[str, Any]) -> str:
    """A self-contained HTML page with one line per expectation of a dataset's suite."""
    status = "pass" if result["success"] else "fail"
    rows = []
    for outcome in result["expectations"]:
        ok = "pass" if outcome["success"] else "fail"
        kwargs = ", ".join(f"{k}={v!r}" for k, v in outcome["kwargs"].items())
        seen = outcome["unexpected_sample"] or outcome["observed_value"]
        rows.append(
            "<tr>"
            f"<td class='{ok}'>{ok}</td><td>{_cell(outcome['severity'])}</td>"
            f"<td>{_cell(outcome['description'])}<br><code>{_cell(outcome['id'])}</code></td>"
            f"<td><code>{_cell(outcome['type'])}({_cell(kwargs)})</code></td>"
            f"<td>{_cell(outcome['unexpected_count'])}</td><td>{_cell(seen)}</td>"
            "</tr>"
        )
    stats = result.get("statistics") or {}
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Validation of {_cell(result['dataset'])}</title><style>{STYLE}</style></head>"
        f"<body><h1>Validation of <code>{_cell(result['dataset'])}</code>: "
        f"<span class='{status}'>{status}</span></h1>"
        f"<p>{result['rows']} rows; {stats.get('successful_expectations', '?')} of "
        f"{stats.get('evaluated_expectations', '?')} expectations met "
        f"(Great Expectations {_cell(result.get('great_expectations_version'))}). "
        "Severity <b>row</b>: the rows that break it are quarantined (see "
        "<code>data/03_primary/quarantined_rows.parquet</code>); <b>table</b>: the table fails "
        "the validation gate.</p>"
        "<table><tr><th>result</th><th>severity</th><th>expectation</th><th>GX call</th>"
        "<th>unexpected rows</th><th>unexpected values (sample) or observed value</th></tr>"
        f"{''.join(rows)}</table></body></html>\n"
    )


def summary_text(summary: dict[str, Any]) -> str:
    """The one-screen summary that ends the validation step in the run log."""
    rows_in = summary["rows_in"]
    lines = [
        f"Validation: {summary['verdict'].upper()}",
        f"  rows in          {rows_in:>10}",
        f"  rows passed      {summary['rows_passed']:>10}",
        f"  rows quarantined {summary['rows_quarantined']:>10}  "
        f"({summary['quarantined_share']:.2%}; the gate fails above "
        f"{summary['max_quarantined_share']:.2%})",
    ]
    if summary["quarantined_by_reason"]:
        lines.append("  quarantined by reason (a row may break several expectations):")
        lines += [
            f"    {count:>8}  {reason}"
            for reason, count in summary["quarantined_by_reason"].items()
        ]
    for failure in summary["failed_table_expectations"]:
        lines.append(
            f"  TABLE CHECK FAILED: {failure['reason']} - {failure['description']} "
            f"(observed: {failure['observed_value']})"
        )
    lines.append(f"  reports: {summary['reports']}")
    return "\n".join(lines)
