"""Words for the target's classes, from configuration (``dataset.target`` in
``conf/base/parameters_dataset.yml``), so every report speaks of the team's own outcome."""

from typing import Any


def outcome_words(target: dict[str, Any]) -> dict[str, Any]:
    """What the positive and negative classes mean, and whether the positive one is favourable."""
    column = target.get("column", "target")
    positive = target.get("positive_means") or f"has {column} = {target.get('positive')!r}"
    negative = target.get("negative_means") or f"does not: {positive}"
    favourable = bool(target.get("favourable", False))
    return {
        "column": column,
        "positive": str(positive),
        "negative": str(negative),
        "favourable": favourable,
        "positive_kind": "favourable" if favourable else "adverse",
    }
