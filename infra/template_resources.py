"""Creates the template's stateful resources (tables, queues, secrets) in an emulated account, from
template.yaml itself, so that tests and the local stack cannot drift from the IaC."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
LOCAL_LINK_BASE = "https://ack.groundswell.localhost"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (``!Ref``, ``!GetAtt`` ...) as plain dicts."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506 (SafeLoader subclass)


@dataclass
class Provisioned:
    """Physical names of what was created, by logical id."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """The functions' environment variables, as the template wires them. Locally SMS goes through SNS
        (moto emulates SNS SMS, not End User Messaging) and links point at a placeholder host."""
        env = {"TABLE_NAME": self.tables["Table"]}
        wiring = {
            "POLL_QUEUE_URL": self.queues.get("PollQueue"),
            "BACKFILL_QUEUE_URL": self.queues.get("BackfillQueue"),
            "PUSH_SECRET_ID": self.secrets.get("PushSecret"),
            "NOTIFY_QUEUE_URL": self.queues.get("NotifyQueue"),
            "ALERT_LINK_SECRET_ID": self.secrets.get("AlertLinkSecret"),
            "OPERATOR_TOPIC_ARN": self.topics.get("OperatorTopic"),
            "SENDER_EMAIL": self.parameters.get("SenderEmail"),
            "SMS_MAX_PRICE": self.parameters.get("SmsMaxPrice"),
            "SMS_PER_DAY": self.parameters.get("SmsDailyCap"),
        }
        env.update({k: v for k, v in wiring.items() if v})
        if "NotifyQueue" in self.queues:
            env.update(SMS_PROVIDER="sns", ALERT_LINK_BASE=LOCAL_LINK_BASE)
        return env


def provision(session: Any, prefix: str = "groundswell-local", template: dict[str, Any] | None = None) -> Provisioned:
    """Creates every ``AWS::DynamoDB::Table``, ``AWS::SQS::Queue``, ``AWS::SecretsManager::Secret`` and
    ``AWS::SNS::Topic``, and verifies the ``SenderEmail`` parameter's default as an SES identity."""
    template = template or load_template()
    resources = template["Resources"]
    out = Provisioned()
    out.parameters = {name: str(p["Default"]) for name, p in template.get("Parameters", {}).items() if "Default" in p}
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::SNS::Topic":
            out.topics[logical] = session.client("sns").create_topic(Name=f"{prefix}-{logical}")["TopicArn"]
    if out.parameters.get("SenderEmail"):
        session.client("sesv2").create_email_identity(EmailIdentity=out.parameters["SenderEmail"])
    dynamodb, sqs, secrets = session.client("dynamodb"), session.client("sqs"), session.client("secretsmanager")
    for logical, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::DynamoDB::Table":
            name = f"{prefix}-{logical}"
            kwargs = {
                k: props[k]
                for k in ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")
                if k in props
            }
            dynamodb.create_table(TableName=name, **kwargs)
            if "TimeToLiveSpecification" in props:
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
            out.tables[logical] = name
    for logical, resource in sorted(resources.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {})):
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SQS::Queue":
            attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
            redrive = props.get("RedrivePolicy")
            if redrive:
                target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
                dlq_arn = sqs.get_queue_attributes(QueueUrl=out.queues[target], AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"]
                attributes["RedrivePolicy"] = json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": redrive["maxReceiveCount"]}
                )
            out.queues[logical] = sqs.create_queue(QueueName=f"{prefix}-{logical}", Attributes=attributes)["QueueUrl"]
        elif resource["Type"] == "AWS::SecretsManager::Secret":
            generate = props.get("GenerateSecretString", {})
            key = generate.get("GenerateStringKey", "key")
            value = secrets.get_random_password(
                PasswordLength=int(generate.get("PasswordLength", 32)), ExcludePunctuation=True
            )["RandomPassword"]
            out.secrets[logical] = secrets.create_secret(
                Name=f"{prefix}-{logical}", SecretString=json.dumps({key: value})
            )["ARN"]
    return out
