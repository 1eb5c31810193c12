"""`make demo`, after the retrain act: the retrained version runs as prod's shadow, then the report.

With ``endpoints.prod.shadow``, the deploy pipeline's Shadow build puts a newly approved version
beside prod's as a shadow variant before the manual gate. Here, on the stand-in:

1. A reviewer approves the retrained version (the deploy pipeline would now test it on staging).
2. ``release.shadow`` reads what the prod endpoint serves (endpoint -> config -> model -> package)
   and writes prod's approved-model file: production stays, the new version is its shadow.
3. The local server serves production with the new version as its shadow variant
   (:mod:`ml_code.serving.shadow`): live traffic (the sample's test rows, one per request) is
   answered by production only; the copies' answers are captured under ``Shadow/``.
4. ``release.shadow_report`` compares both variants' captures and latencies, as the build does
   after its window; the gate's reviewer would see its summary line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.approved_model import ApprovedModel
from contracts.config import AppConfig
from contracts.names import endpoint_name, model_package_group_name
from demo.release_act import approve
from emulator.local_aws import LocalAws
from ml_code import contract, sample_data
from ml_code.serving.client import invoke
from ml_code.serving.shadow import serve_with_shadow
from release import shadow_report
from release.shadow import NoProductionEndpointError, shadowed

#: Requests sent while the shadow runs (one test row each); prod's minRequests should be below it.
TRAFFIC_ROWS = 200


def shadow_test(aws: LocalAws, config: AppConfig, work: Path) -> int:
    """The act, when prod has a shadow config and the retrain act registered a new version; 0 if not."""
    prod = config.env.endpoints.prod
    if prod.shadow is None:
        return 0
    group, endpoint = model_package_group_name(config.prefix), endpoint_name(config.prefix, prod.name)
    sagemaker = aws.client("sagemaker")
    newest = sagemaker.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending", MaxResults=1
    )["ModelPackageSummaryList"]
    print(f"\nShadow test: the newest version runs beside prod's for {prod.shadow.window_minutes} min.")
    if not newest:
        print("  result:            no version to shadow")
        return 0
    approve(aws, str(newest[0]["ModelPackageArn"]))
    print(f"  a reviewer approves v{newest[0]['ModelPackageVersion']}; staging passes as in the release act")
    try:
        model = shadowed(sagemaker, group, endpoint, int(newest[0]["ModelPackageVersion"]))
    except NoProductionEndpointError:
        print(f"  result:            {endpoint} does not exist: no shadow test for a first release")
        return 0
    if model is None or model.shadow is None:
        print(f"  result:            {endpoint} already serves the newest version: nothing to shadow")
        return 0
    path = work / "project" / prod.model_file
    model.write(path)
    print(f"  release.shadow wrote {path}: production v{model.version}, shadow v{model.shadow.version}")
    return _run(aws, config, work / "shadow", model, endpoint)


def _artifact(aws: LocalAws, approved: ApprovedModel, folder: Path) -> Path:
    path = folder / f"v{approved.version}" / "model.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(aws.read_object(approved.model_data_url))
    return path


def _traffic(rows: int) -> list[bytes]:
    """``rows`` raw test rows (no target), one JSON record per request, as clients send them."""
    frame = sample_data.generate(rows=rows, seed=21).drop(columns=[contract.SAMPLE_TARGET_COLUMN])
    records: list[dict[Any, Any]] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [json.dumps([record]).encode() for record in records]


def _run(aws: LocalAws, config: AppConfig, work: Path, model: ApprovedModel, endpoint: str) -> int:
    """Serve production with the shadow, send the traffic, report like the Shadow build."""
    shadow = config.env.endpoints.prod.shadow
    assert shadow is not None
    assert model.shadow is not None
    capture, latency = work / "capture", work / "latency.json"
    production, challenger = _artifact(aws, model, work), _artifact(aws, model.shadow, work)
    with serve_with_shadow(production, challenger, sampling_percent=shadow.sampling_percent,
                           capture_dir=capture, endpoint_name=endpoint) as (url, app):  # fmt: skip
        answered = [
            invoke(url, body, content_type=contract.CONTENT_TYPE_JSON) for body in _traffic(TRAFFIC_ROWS)
        ]
        app.flush()
        app.write_latencies(latency)
    ok = sum(a.status == 200 for a in answered)
    print(f"  {ok} of {len(answered)} requests answered by production; {app.shadowed} copied to the shadow")
    print(f"  captured under {capture / endpoint}/AllTraffic and /Shadow")
    report = work / "shadow-report.json"
    code = shadow_report.main([
        "--endpoint", endpoint, "--capture-dir", str(capture), "--window-minutes", str(shadow.window_minutes),
        "--min-requests", str(shadow.min_requests), "--model-file", str(work.parent / "project" /
        config.env.endpoints.prod.model_file), "--latency-file", str(latency), "--out", str(report),
    ])  # fmt: skip
    if code != 0:
        print("  result:            FAILED: the shadow report")
        return 1
    print(f"  report: {report}")
    print("  result:            the gate waits with this summary; approving ships the shadow version to prod")
    return 0
