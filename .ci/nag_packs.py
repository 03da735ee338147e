"""cdk-nag's AwsSolutions, NIST 800-53 R5 and Serverless packs over one CloudFormation template.

    python .ci/nag_packs.py TEMPLATE OUTDIR   (prints one line per non-compliant resource and rule)
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import cloudformation_include
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks


def main(template: str, outdir: str) -> int:
    """Load TEMPLATE with CfnInclude (which fails on what CDK's L1 model refuses), run the packs."""
    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "Tracking")
    cloudformation_include.CfnInclude(stack, "Template", template_file=template)
    for pack in (AwsSolutionsChecks(reports=True), NIST80053R5Checks(reports=True), ServerlessChecks(reports=True)):
        cdk.Aspects.of(app).add(pack)
    app.synth()
    for report in sorted(Path(outdir).glob("*-NagReport.csv")):
        with report.open(encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                if row["Compliance"] == "Non-Compliant":
                    print(f"{row['Rule ID']} {row['Resource ID']}: {row['Rule Info']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
