"""Transforms template.yaml into plain CloudFormation with aws-sam-translator, offline.

    .venv-sam/bin/python infra/sam_translate.py template.yaml > build/template.cfn.json

cfn-lint does not look inside AWS::Serverless::* resources; linting the translated template does. AWS
managed policies are resolved to their well-known ARNs instead of asking IAM (no account needed).
"""

from __future__ import annotations

import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicyLoader:
    """Returns ``arn:aws:iam::aws:policy/...`` for the AWS managed policies SAM attaches."""

    def load(self) -> dict[str, str]:
        names = [
            "AWSLambdaBasicExecutionRole",
            "AWSXrayWriteOnlyAccess",
            "AWSXRayDaemonWriteAccess",
            "AWSLambdaSQSQueueExecutionRole",
            "AWSLambdaRole",
        ]
        return {
            name: f"arn:aws:iam::aws:policy/service-role/{name}"
            if "Execution" in name or name == "AWSLambdaRole"
            else f"arn:aws:iam::aws:policy/{name}"
            for name in names
        }


def _as_packaged(template: dict) -> None:
    """Local code paths become S3 URIs, as ``sam package`` would make them."""
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://groundswell-artifacts/{props[key].strip('/')}.zip"


def main(path: str) -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path, encoding="utf-8") as handle:
        template = yaml_parse(handle.read())
    _as_packaged(template)
    output = transform(template, {"AWS::Region": "us-east-1"}, OfflinePolicyLoader())
    json.dump(output, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
