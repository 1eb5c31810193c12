"""The shadow test's report: the challenger (shadow variant) against production, over the window.

``python -m release.shadow_report --endpoint E (--capture-uri s3://B/data-capture/ | --capture-dir D)
--window-minutes N --min-requests N [--model-file F] [--latency-file F] [--tolerance T]
--out report.json [--exports shadow.env] [--region R]``

Reads both variants' data capture of the last ``--window-minutes`` (``<endpoint>/AllTraffic/`` and
``<endpoint>/Shadow/``, only the hour folders the window touches), pairs each shadow record with its
production record (:mod:`release.shadow_pairs`), and reports: requests seen per variant, pairs (and
how they were matched), the agreement rate of the predicted label (binary, multiclass) or the share
of scores within ``--tolerance`` (regression), PSI and KS of the shadow's scores against
production's, and model latency p50/p90 per variant: CloudWatch's ``ModelLatency`` (dimensions
``EndpointName``, ``VariantName``) on AWS, ``--latency-file`` (the local server's record) offline.
Fewer than ``--min-requests`` pairs: the verdict is "not enough shadow traffic" (the gate still
waits; the reviewer decides). Writes the JSON report, prints a one-line summary, and with
``--exports`` a file of ``export NAME=value`` lines the deploy build sources so that CodeBuild
exports them as CodePipeline variables (:data:`EXPORTED`). Exit 0 whenever a report was written.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from contracts.approved_model import ApprovedModel, ApprovedModelError
from contracts.layout import CAPTURE_PREFIX
from release import shadow_metrics as m
from release.shadow_pairs import Pairing, Record, pair
from release.shadow_sources import (
    PRODUCTION_VARIANT,
    SHADOW_VARIANT,
    VARIANTS,
    cloudwatch_latency,
    dir_lines,
    file_latency,
    hour_prefixes,
    records,
    s3_lines,
)

if TYPE_CHECKING:  # the boto3 stubs are a development requirement only
    pass

#: CodePipeline variables the Shadow build exports (``#{Shadow.<name>}`` in the approval).
EXPORTED: Final = (
    "SHADOW_SUMMARY", "SHADOW_PAIRED", "SHADOW_AGREEMENT", "SHADOW_PSI", "SHADOW_KS", "SHADOW_LATENCY",
)  # fmt: skip
NOT_ENOUGH: Final = "not enough shadow traffic"


def build_report(
    production: list[Record], shadow: list[Record], *, min_requests: int, tolerance: float
) -> dict[str, Any]:
    """The comparison (without latency and versions): counts, pairing, agreement, PSI, KS, verdict."""
    pairing: Pairing = pair(production, shadow)
    rows = [
        (p, s)
        for prod, shade in pairing.pairs
        if len(prod.predictions) == len(shade.predictions)
        for p, s in zip(prod.predictions, shade.predictions, strict=True)
    ]
    regression = bool(rows) and rows[0][0].label is None
    p_scores, s_scores = [p.score for p, _ in rows], [s.score for _, s in rows]
    share = (
        m.within_tolerance(p_scores, s_scores, tolerance)
        if regression
        else m.agreement([p.label for p, _ in rows], [s.label for _, s in rows])
    )
    enough = len(pairing.pairs) >= min_requests
    return {
        "requests": {PRODUCTION_VARIANT: len(production), SHADOW_VARIANT: len(shadow)},
        "paired": len(pairing.pairs),
        "paired_by": {"event_or_inference_id": pairing.by_id, "payload_and_time": pairing.by_payload},
        "unpaired_shadow": pairing.unmatched_shadow,
        "rows_compared": len(rows),
        "measure": f"share within {tolerance:g} (relative)" if regression else "label agreement",
        "agreement": None if share is None else round(share, 4),
        "psi": _rounded(m.psi(p_scores, s_scores)),
        "ks": _rounded(m.ks(p_scores, s_scores)),
        "min_requests": min_requests,
        "verdict": "compared" if enough else NOT_ENOUGH,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summary(report: dict[str, Any]) -> str:
    """One line for logs and the approval: versions, pairs, agreement, PSI, KS, p90 latencies."""
    latency = report.get("latency_ms") or {}
    p90 = "/".join(
        f"{(latency.get(v) or {}).get('p90', 'n/a')}" for v in (PRODUCTION_VARIANT, SHADOW_VARIANT)
    )
    versions = f"shadow v{report.get('shadow_version', '?')} vs prod v{report.get('production_version', '?')}"
    head = f"{versions}: {report['paired']} paired of {report['requests'][SHADOW_VARIANT]} shadow requests"
    if report["verdict"] == NOT_ENOUGH:
        return f"{head}; {NOT_ENOUGH} (need {report['min_requests']}); p90 ms prod/shadow {p90}"
    return (
        f"{head}; {report['measure']} {report['agreement']}; PSI {report['psi']}; KS {report['ks']}; "
        f"p90 ms prod/shadow {p90}"
    )


def exports(report: dict[str, Any]) -> str:
    """``export NAME=value`` lines (shell-quoted) for :data:`EXPORTED`."""
    latency = report.get("latency_ms") or {}
    values = {
        "SHADOW_SUMMARY": summary(report),
        "SHADOW_PAIRED": str(report["paired"]),
        "SHADOW_AGREEMENT": str(report["agreement"]),
        "SHADOW_PSI": str(report["psi"]),
        "SHADOW_KS": str(report["ks"]),
        "SHADOW_LATENCY": json.dumps(latency, sort_keys=True, separators=(",", ":")),
    }
    return "".join(f"export {name}={shlex.quote(values[name])}\n" for name in EXPORTED)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m release.shadow_report",
        allow_abbrev=False,
        description="Compare the shadow variant with production over the window.",
    )
    parser.add_argument("--endpoint", required=True, help="the prod endpoint's name")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--capture-uri", help=f"s3://<bucket>/{CAPTURE_PREFIX} (endpoints below it)")
    source.add_argument("--capture-dir", type=Path, help="a local capture folder (offline)")
    parser.add_argument("--window-minutes", type=int, required=True)
    parser.add_argument("--min-requests", type=int, required=True)
    parser.add_argument("--model-file", type=Path, help="prod's approved-model file (names both versions)")
    parser.add_argument("--latency-file", type=Path, help="offline: the local server's latency record")
    parser.add_argument("--tolerance", type=float, default=0.05, help="regression: relative tolerance")
    parser.add_argument("--out", type=Path, required=True, help="the JSON report to write")
    parser.add_argument("--exports", type=Path, help="write export lines for CodeBuild's exported variables")
    parser.add_argument("--region", default=None, help="AWS region (default: the SDK's)")
    return parser.parse_args(argv)


def versions(model_file: Path | None) -> dict[str, int]:
    """Production's and the shadow's versions, from prod's approved-model file (when given)."""
    if model_file is None:
        return {}
    model = ApprovedModel.read(model_file)
    shadow = {} if model.shadow is None else {"shadow_version": model.shadow.version}
    return {"production_version": model.version, **shadow}


def main(argv: list[str] | None = None, *, now: datetime | None = None, session: Any = None) -> int:
    """CLI entry point: 0 once the report is written, 2 on an AWS or input error (one line)."""
    args = parse_args(argv)
    end = now or datetime.now(UTC)
    start = end - timedelta(minutes=args.window_minutes)
    hours = hour_prefixes(start, end)
    aws = session or boto3.session.Session(region_name=args.region)
    try:
        s3 = None if args.capture_dir is not None else aws.client("s3")
        found = {
            v: records(
                dir_lines(args.capture_dir, args.endpoint, v, hours)
                if s3 is None
                else s3_lines(s3, args.capture_uri, args.endpoint, v, hours),
                start,
                end,
            )
            for v in VARIANTS
        }
        report = {
            "endpoint": args.endpoint, "window": {"start": start.isoformat(), "end": end.isoformat()},
            **versions(args.model_file),
            **build_report(found[PRODUCTION_VARIANT], found[SHADOW_VARIANT],
                           min_requests=args.min_requests, tolerance=args.tolerance),
            "latency_ms": file_latency(args.latency_file) if args.latency_file
            else cloudwatch_latency(aws.client("cloudwatch"), args.endpoint, start, end),
        }  # fmt: skip
    except (ClientError, BotoCoreError, ApprovedModelError, OSError, ValueError) as exc:
        print(f"release.shadow_report: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if args.exports is not None:
        args.exports.write_text(exports(report), encoding="utf-8")
    print(summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
