"""template.yaml: the wiring a reviewer would check by eye, checked by a test."""

from __future__ import annotations

from typing import Any

from infra.template_resources import load_template

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


def test_iam_names_its_resources_except_where_aws_allows_none() -> None:
    for function in ("DispatchPollsFunction", "PollMentionsFunction", "IngestPushFunction", "DetectSpikesFunction"):
        for statement in statements(function):
            if statement["Action"] == ["comprehend:BatchDetectSentiment"]:
                continue  # Comprehend's detect APIs have no resource-level permissions
            assert statement["Resource"] != "*", (function, statement)
            assert not any(a.endswith(":*") for a in statement["Action"]), (function, statement)


def test_the_poller_consumes_with_partial_failures_and_a_dead_letter_queue() -> None:
    event = RESOURCES["PollMentionsFunction"]["Properties"]["Events"]["PollRequests"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = RESOURCES["PollQueue"]["Properties"]
    timeout = RESOURCES["PollMentionsFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["PollDeadLetterQueue", "Arn"]}


def test_polls_are_scheduled_by_eventbridge_scheduler_at_the_parameter_rate() -> None:
    schedule = RESOURCES["DispatchPollsFunction"]["Properties"]["Events"]["Every"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"Fn::Sub": "rate(${PollRateMinutes} minutes)"}


def test_the_table_has_ttl_and_the_push_key_is_generated_not_written_down() -> None:
    table = RESOURCES["Table"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "GenerateSecretString" in RESOURCES["PushSecret"]["Properties"]
    assert "SecretString" not in RESOURCES["PushSecret"]["Properties"]
