"""Every synthesized template is cfn-lint clean: no errors and no warnings.

Informational checks are left out: I1022 ("prefer Fn::Sub over Fn::Join") fires on the way
CDK itself renders every token-bearing string, and says nothing about the resources.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from platform_synth import SynthesizedPlatform

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def test_every_template_is_cfn_lint_clean(synthesized: SynthesizedPlatform) -> None:
    templates = sorted(str(path) for path in synthesized.outdir.glob("*.template.json"))
    assert len(templates) >= 3
    result = subprocess.run(
        [str(CFN_LINT), "--format", "parseable", "--", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
