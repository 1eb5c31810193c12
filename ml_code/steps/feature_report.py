"""Each raw column's role, from the merged profile, and the feature report Preprocess writes about it.

:func:`column_roles` turns the profile of the training rows into :class:`~ml_code.column_roles.ColumnFacts`
(exact counts; the bottom-k sample for the values themselves, and for the distinct count of a column
past the profile's category cap) and decides each role. :func:`feature_report` is ``features.json`` in
the baseline output: per raw column, in the header's order, its role, the reason, the transformer's
outputs it became and its missing share over the training rows; :func:`report_table` is the same as a
Markdown table (``features.md``), what ``make demo`` prints.
"""

from __future__ import annotations

from typing import Any, Final

from ml_code.column_roles import ColumnFacts, ColumnRole, decide_all
from ml_code.errors import DataValidationError
from ml_code.features import FeatureTransformer
from ml_code.steps.feature_profile import FeatureProfile
from ml_code.steps.profile import Profile

REPORT_VERSION: Final = 1


def sample_texts(profile: Profile, name: str) -> list[str]:
    """The present values (stripped, blanks left out) of feature ``name`` in the training sample."""
    texts = profile.sample.rows[name].dropna().astype(str).str.strip()
    return [str(t) for t in texts[texts != ""]]


def _facts(profile: Profile, name: str, feature: FeatureProfile) -> ColumnFacts:
    sample = sample_texts(profile, name)
    present = feature.present - feature.blank
    counts = feature.categories.counts
    distinct = len(counts)
    if feature.categories.approximate:  # past the cap: the sample's share of distinct values
        distinct = round(present * len(set(sample)) / len(sample)) if sample else present
    top = min(counts, key=lambda v: (-counts[v], v)) if counts else None
    return ColumnFacts(
        name=name, rows=feature.count, present=present, numeric=feature.numeric and present > 0,
        integral=feature.integral, boolean=feature.boolean and present > 0, distinct=distinct,
        top=top, sample=sample,
    )  # fmt: skip


def column_roles(profile: Profile) -> list[ColumnRole]:
    """Every feature column's role, in the header's order (overrides from ``settings.roles``).

    Raises DataValidationError when no column is left as a model input.
    """
    facts = [_facts(profile, name, f) for name, f in profile.features.items()]
    try:
        roles = decide_all(facts, dict(profile.settings.roles))
    except ValueError as exc:
        raise DataValidationError(str(exc)) from None
    if not any(r.model_input for r in roles):
        shown = "; ".join(f"{r.name}: {r.role}" for r in roles)
        raise DataValidationError(
            f"no column is left as a model input ({shown}); set roles in pipeline.columns"
        )
    return roles


def _outputs(transformer: FeatureTransformer) -> dict[str, list[str]]:
    """The output columns per raw feature (names are ``<feature>=...`` or ``<feature>__...`` or itself)."""
    owners: dict[str, list[str]] = {name: [] for name in transformer.feature_names}
    names = sorted(owners, key=len, reverse=True)  # the longest prefix first: "a" and "a b" both exist
    for output in transformer.output_names:
        owner = next(n for n in names if output == n or output.startswith((f"{n}=", f"{n}__")))
        owners[owner].append(output)
    return owners


def feature_report(
    roles: list[ColumnRole], transformer: FeatureTransformer, profile: Profile
) -> dict[str, Any]:
    """``features.json``: per raw column its role, reason, outputs and missing share (see the module doc)."""
    outputs = _outputs(transformer)
    columns = []
    for role in roles:
        feature = profile.features[role.name]
        missing = (feature.missing + feature.blank) / feature.count if feature.count else 0.0
        columns.append({
            "name": role.name, "role": role.role, "reason": role.reason, "model_input": role.model_input,
            "outputs": outputs.get(role.name, []), "missing_share": round(missing, 4),
        })  # fmt: skip
    return {"version": REPORT_VERSION, "target": transformer.target, "rows": profile.rows["train"],
            "columns": columns}  # fmt: skip


def report_table(report: dict[str, Any]) -> str:
    """The report as a Markdown table: column, role, outputs, missing share, why."""
    lines = ["| column | role | outputs | missing | why |", "|---|---|---|---|---|"]
    for c in report["columns"]:
        shown = len(c["outputs"])
        outputs = ", ".join(c["outputs"]) if shown <= 4 else f"{shown} columns"
        lines.append(
            f"| {c['name']} | {c['role']} | {outputs or '-'} | {c['missing_share']:.0%} | {c['reason']} |"
        )
    return "\n".join(lines) + "\n"
