"""The real `cdk synth` of the app into a folder, loaded as the emulator reads it.

The demo and the runner benchmark synthesize with the CDK CLI itself (offline: no version check,
telemetry or notices), so what they run is what CloudFormation would deploy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from emulator.cfn import Assembly

#: The project's root: where cdk.json is and the CLI runs.
ROOT = Path(__file__).resolve().parent.parent
CDK_ENV = {
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}


def synth(env_name: str, out_dir: Path, context: dict[str, str] | None = None) -> Assembly:
    """Run the real `cdk synth` into `out_dir` (extra `-c` values from `context`) and load it."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    command = ["npx", "--no-install", "cdk", "synth", "--no-notices", "--quiet", "-c", f"env={env_name}"]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]
    started = time.monotonic()
    completed = subprocess.run(
        [*command, "--output", str(out_dir)],
        cwd=ROOT,
        env={**os.environ, **CDK_ENV},
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"cdk synth failed (exit {completed.returncode}); see the output above")
    assembly = Assembly.load(out_dir)
    print(f"Synthesized {len(assembly.templates)} stacks in {time.monotonic() - started:.1f}s → {out_dir}")
    for stack, template in sorted(assembly.templates.items()):
        print(f"  {stack:<32} {len(template.get('Resources', {})):>3} resources")
    return assembly
