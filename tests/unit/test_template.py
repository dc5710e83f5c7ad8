"""template.yaml: the wiring a reviewer would check by eye, checked by a test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from infra.template_resources import load_template
from tests.conftest import ROOT

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def statements(function: str) -> list[dict[str, Any]]:
    found = []
    for policy in RESOURCES[function]["Properties"].get("Policies", []):
        if "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        found.extend(policy.get("Statement", []))
    return found


def test_every_function_has_a_log_group_with_retention() -> None:
    functions = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"]
    groups = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::Logs::LogGroup"]
    named = {g["LogGroupName"]["Fn::Sub"].split("${")[1].rstrip("}") for g in groups}
    assert named == set(functions)
    assert all(g["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups)


# actions AWS authorises on no resource, so "*" is the only possible Resource
NO_RESOURCE_ACTIONS = {
    "comprehend:BatchDetectSentiment",  # Comprehend's detect APIs
    "sns:Publish",
    "sns:CheckIfPhoneNumberIsOptedOut",  # SNS SMS to a phone number (SmsProvider=sns only)
}
# AWS managed policies SAM attaches: logs, X-Ray (Tracing: Active), the SQS event source's receive/delete
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}
TRANSLATED = ROOT / "build" / "template.cfn.json"


def test_iam_names_its_resources_except_where_aws_allows_none() -> None:
    functions = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"]
    for function in functions:
        for statement in statements(function):
            if set(statement["Action"]) <= NO_RESOURCE_ACTIONS:
                continue
            assert statement["Resource"] != "*", (function, statement)
            assert not any(a.endswith(":*") for a in statement["Action"]), (function, statement)


def _all_statements(node: Any) -> Iterator[dict[str, Any]]:
    """Every IAM statement under ``node``, in both branches of each Fn::If."""
    if isinstance(node, dict):
        if "Effect" in node and "Action" in node:
            yield node
        for value in node.values():
            yield from _all_statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_statements(value)


def test_least_privilege_over_the_sam_translated_template() -> None:
    """What CloudFormation really gets (``make template`` writes build/template.cfn.json before the tests)."""
    if not TRANSLATED.exists():
        if os.environ.get("CI") == "true":
            raise AssertionError("build/template.cfn.json is missing: make template runs before the tests")
        pytest.skip("run `make template` first")
    resources = json.loads(TRANSLATED.read_text())["Resources"]
    roles = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"}
    assert len(roles) >= 6
    for name, role in roles.items():
        assert set(role.get("ManagedPolicyArns", [])) <= MANAGED_POLICIES, name
        for statement in _all_statements(role.get("Policies", [])):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a == "*" or a.endswith(":*") for a in actions), (name, statement)
            if statement["Resource"] == "*" or statement["Resource"] == ["*"]:
                assert set(actions) <= NO_RESOURCE_ACTIONS, (name, statement)


def test_the_poller_consumes_with_partial_failures_and_a_dead_letter_queue() -> None:
    event = RESOURCES["PollMentionsFunction"]["Properties"]["Events"]["PollRequests"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = RESOURCES["PollQueue"]["Properties"]
    timeout = RESOURCES["PollMentionsFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["PollDeadLetterQueue", "Arn"]}


def test_backfills_have_a_queue_of_their_own_that_keeps_them_for_days() -> None:
    """A brand-day of history may be throttled or need several invocations: on the poll queue (kept an hour,
    4 receives) it was lost; its own queue keeps it 4 days and 12 receives, then a dead-letter queue alarms."""
    queue = RESOURCES["BackfillQueue"]["Properties"]
    timeout = RESOURCES["PollMentionsFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout and queue["MessageRetentionPeriod"] >= 3 * 86400
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 10
    dead = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    alarm = RESOURCES["BackfillDeadLettersAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [dead, "QueueName"]}
    event = RESOURCES["PollMentionsFunction"]["Properties"]["Events"]["Backfill"]["Properties"]
    assert event["Queue"] == {"Fn::GetAtt": ["BackfillQueue", "Arn"]} and event["BatchSize"] == 1
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "BackfillQueueUrl" in TEMPLATE["Outputs"]


def test_polls_are_scheduled_by_eventbridge_scheduler_at_the_parameter_rate() -> None:
    schedule = RESOURCES["DispatchPollsFunction"]["Properties"]["Events"]["Every"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"Fn::Sub": "rate(${PollRateMinutes} minutes)"}


def test_the_table_has_ttl_and_the_push_key_is_generated_not_written_down() -> None:
    table = RESOURCES["Table"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "GenerateSecretString" in RESOURCES["PushSecret"]["Properties"]
    assert "SecretString" not in RESOURCES["PushSecret"]["Properties"]


def test_the_dashboard_is_valid_json_naming_real_resources() -> None:
    import re

    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([A-Za-z:]+)(?:\.[A-Za-z]+)?\}", body))
    assert names - {"AWS::Region"} <= set(RESOURCES)
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    assert len(widgets) >= 6 and all(w["properties"]["metrics"] for w in widgets)


def test_alarms_cover_failures_silence_and_dead_letters() -> None:
    alarms = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert {
        "PollerErrorsAlarm",
        "SilentSourcesAlarm",
        "DetectorErrorsAlarm",
        "PollDeadLettersAlarm",
        "NotifyDeadLettersAlarm",
        "NotificationsFailedAlarm",
        "UnreadableItemsAlarm",
    } <= alarms
    assert all(RESOURCES[a]["Properties"]["AlarmActions"] == [{"Ref": "OperatorTopic"}] for a in alarms)


def test_every_alarm_on_our_metrics_matches_the_dimension_sets_they_are_emitted_with(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An alarm on a plain metric matches one exact dimension set; ``count`` emits each metric with its own
    (``SourceErrors`` with ``source``, ``SilentSources`` with none), never the ``service`` dimension. So an
    alarm on our namespace must use a Metrics Insights query, which sums over every dimension set."""
    from groundswell.observability import count

    count("SourceErrors", 1, source="bluesky")
    count("SilentSources", 2)
    emitted = [json.loads(line)["_aws"]["CloudWatchMetrics"][0] for line in capsys.readouterr().out.splitlines()]
    assert len(emitted) == 2 and all("service" not in dims for m in emitted for dims in m["Dimensions"])
    ours = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    plain = [k for k, p in ours.items() if p.get("Namespace") == "Groundswell"]
    assert plain == [], f"alarms that can never fire: {plain}"
    queries = [m["Expression"] for p in ours.values() for m in p.get("Metrics", []) if "Expression" in m]
    for metric in ("SourceErrors", "SilentSources", "BlueskyLoginRefused", "UnreadableItems"):
        assert any(f"({metric})" in q and "FROM Groundswell" in q for q in queries), metric


def _ref(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


def _allows(policy: dict[str, Any], service: str, action: str) -> bool:
    """Whether a policy document lets ``service`` do ``action`` (``kms:GenerateDataKey*`` matches the wildcard)."""
    for statement in policy["Statement"]:
        principal = statement.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and service in services and action in actions:
            return True
    return False


def test_alarms_and_inbound_sms_can_reach_their_encrypted_topics() -> None:
    """moto enforces neither key nor topic policies: CloudWatch alarms and End User Messaging two-way SMS can
    publish only to a topic whose key (not alias/aws/sns) and topic policy let them."""
    topics = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::SNS::Topic"}
    keys = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::KMS::Key"}
    topic_policies: dict[str, list[dict[str, Any]]] = {}
    for resource in RESOURCES.values():
        if resource["Type"] == "AWS::SNS::TopicPolicy":
            for topic in resource["Properties"]["Topics"]:
                topic_policies.setdefault(_ref(topic) or "", []).append(resource["Properties"]["PolicyDocument"])
    for name, topic in topics.items():
        assert topic.get("KmsMasterKeyId") != "alias/aws/sns", f"{name}: the AWS-managed key locks services out"
        assert _ref(topic.get("KmsMasterKeyId")) in keys, f"{name} is not encrypted with a key of the stack's"

    publishers: dict[str, set[str]] = {}  # topic -> services that publish to it
    for resource in RESOURCES.values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            for topic in resource["Properties"].get("AlarmActions", []) + resource["Properties"].get("OKActions", []):
                publishers.setdefault(_ref(topic) or "", set()).add("cloudwatch.amazonaws.com")
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "SNS":  # a function fed by a topic: the inbound SMS topic
                publishers.setdefault(_ref(event["Properties"]["Topic"]) or "", set()).add("sms-voice.amazonaws.com")
    if TRANSLATED.exists():  # what CloudFormation gets: the function's SNS event is a subscription there
        translated = json.loads(TRANSLATED.read_text())["Resources"]
        subscribed = {
            _ref(r["Properties"]["TopicArn"])
            for r in translated.values()
            if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "lambda"
        }
        assert subscribed == {"InboundSmsTopic"}
        assert all(
            r["Properties"]["KmsMasterKeyId"] == {"Ref": "TopicKey"}
            for r in translated.values()
            if r["Type"] == "AWS::SNS::Topic"
        )
    assert publishers["OperatorTopic"] == {"cloudwatch.amazonaws.com"}
    assert publishers["InboundSmsTopic"] == {"sms-voice.amazonaws.com"}
    for topic, services in publishers.items():
        key = keys[_ref(topics[topic]["KmsMasterKeyId"]) or ""]
        for service in services:
            assert any(_allows(p, service, "sns:Publish") for p in topic_policies.get(topic, [])), (topic, service)
            for action in ("kms:GenerateDataKey*", "kms:Decrypt"):
                assert _allows(key["KeyPolicy"], service, action), (topic, service, action)


def test_functions_that_publish_to_an_encrypted_topic_may_use_its_key() -> None:
    for function in [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"]:
        granted = statements(function)
        encrypted = ("OperatorTopic", "InboundSmsTopic")
        publishes = [s for s in granted if "sns:Publish" in s["Action"] and _ref(s["Resource"]) in encrypted]
        if publishes:
            kms = [s for s in granted if s["Resource"] == {"Fn::GetAtt": ["TopicKey", "Arn"]}]
            assert kms and {"kms:GenerateDataKey", "kms:Decrypt"} <= set(kms[0]["Action"]), function


def test_a_fresh_account_deploys_the_detector_without_a_concurrency_reservation() -> None:
    """Accounts with a concurrency quota of 10 refuse any reservation; the lease keeps one cycle at a time."""
    assert TEMPLATE["Parameters"]["DetectorReservedConcurrency"]["Default"] == 0
    reserved = RESOURCES["DetectSpikesFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == {"Fn::If": ["ReservesDetector", 1, {"Ref": "AWS::NoValue"}]}
    assert not [
        k
        for k, v in RESOURCES.items()
        if "ReservedConcurrentExecutions" in v.get("Properties", {}) and k != "DetectSpikesFunction"
    ]


def _environment(function: str) -> set[str]:
    globals_env = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    own = RESOURCES[function]["Properties"].get("Environment", {}).get("Variables", {})
    return set(globals_env) | set(own)


def test_every_function_that_builds_the_notifier_has_what_it_reads_and_may_do_it() -> None:
    """The tests give every function one shared environment, which hid that the SMS-reply function could not
    tell the operator about a STOP (no topic variable, no permission): its notice went nowhere, silently."""
    for function in ("NotifyFunction", "AlertActionsFunction"):
        assert {"ALERT_LINK_SECRET_ID", "SENDER_EMAIL", "OPERATOR_TOPIC_ARN", "TABLE_NAME"} <= _environment(function)
        granted = statements(function)
        assert any("sns:Publish" in s["Action"] and s["Resource"] == {"Ref": "OperatorTopic"} for s in granted)
        assert any(s["Resource"] == {"Fn::GetAtt": ["TopicKey", "Arn"]} for s in granted)
    assert {"PUSH_SECRET_ID", "TABLE_NAME"} <= _environment("IngestPushFunction")
    assert {"POLL_QUEUE_URL", "TABLE_NAME"} <= _environment("DispatchPollsFunction")
    assert {"NOTIFY_QUEUE_URL", "TABLE_NAME"} <= _environment("DetectSpikesFunction")


def test_every_metric_an_alarm_watches_is_emitted_somewhere() -> None:
    """An alarm on a metric name nothing emits (a typo, a renamed metric) can never fire."""
    import re

    code = "\n".join(p.read_text() for p in (ROOT / "shared" / "groundswell").rglob("*.py"))
    emitted = set(re.findall(r"""(?:count|milliseconds|add_metric)\(\s*(?:name=)?["']([A-Za-z]+)["']""", code))
    watched = set()
    for resource in RESOURCES.values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        for metric in resource["Properties"].get("Metrics", []):
            watched |= set(re.findall(r"\(([A-Za-z]+)\)\s+FROM Groundswell", metric.get("Expression", "")))
        if resource["Properties"].get("Namespace") == "Groundswell":
            watched.add(resource["Properties"]["MetricName"])
    assert watched and watched <= emitted, sorted(watched - emitted)
