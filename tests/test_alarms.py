"""The service stack's deployment alarms: what they watch, and that a firing one rolls back.

Read statically from the rendered infra/service.yaml, its conditions resolved as
CloudFormation would. What ECS then does with a failing deploy needs AWS: moto runs no
deployments and raises no alarms.
"""

import re

import pytest
import yaml
from conftest import (
    MATRIX,
    CloudFormationLoader,
    environment_settings,
    evaluate,
    resolve,
)

# What the deployment alarms watch: errors from the tasks and from the load balancer,
# slow responses, and tasks failing their health check.
ALARMED_METRICS = {
    "HTTPCode_Target_5XX_Count",
    "HTTPCode_ELB_5XX_Count",
    "TargetResponseTime",
    "UnHealthyHostCount",
}
ALARM = "AWS::CloudWatch::Alarm"


@pytest.fixture(scope="module")
def project(baked):
    # service.yaml renders alike for every combination (tests/test_cloudformation.py).
    return baked(MATRIX[0])


@pytest.fixture(scope="module")
def template(project):
    return yaml.load((project / "infra/service.yaml").read_text(), CloudFormationLoader)


def deployed(template: dict, **settings) -> dict:
    """The resources a stack with these parameters holds, with its conditions resolved."""
    defaults = {name: p["Default"] for name, p in template["Parameters"].items() if "Default" in p}
    parameters = {**defaults, **settings}
    conditions = template["Conditions"]
    return {
        logical_id: resolve(resource, parameters, conditions)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource
        or evaluate({"Condition": resource["Condition"]}, parameters, conditions)
    }


def deployment_configuration(resources: dict) -> dict:
    return resources["Service"]["Properties"]["DeploymentConfiguration"]


def alarms_of(resources: dict) -> dict:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == ALARM}


def test_every_alarm_is_a_deployment_alarm_of_the_service_with_rollback(template):
    """The service rolls back on each alarm the stack holds, and only on those."""
    resources = deployed(template)
    alarms = alarms_of(resources)
    settings = deployment_configuration(resources)["Alarms"]
    assert (settings["Enable"], settings["Rollback"]) == (True, True)
    assert sorted(name["Ref"] for name in settings["AlarmNames"]) == sorted(alarms)
    metrics = {alarm["Properties"]["MetricName"] for alarm in alarms.values()}
    assert metrics == ALARMED_METRICS


def test_the_service_s_target_group_has_an_unhealthy_targets_alarm(template):
    """Health is counted per target group: the one the service registers its tasks in."""
    resources = deployed(template)
    (balanced,) = resources["Service"]["Properties"]["LoadBalancers"]
    watched = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in alarms_of(resources).values()
        if alarm["Properties"]["MetricName"] == "UnHealthyHostCount"
        for dimension in alarm["Properties"]["Dimensions"]
        if dimension["Name"] == "TargetGroup"
    }
    assert watched == {balanced["TargetGroupArn"]["Ref"]}


def test_an_alarm_fires_within_minutes_on_a_threshold_each_environment_sets(template, project):
    """One-minute periods, in alarm within minutes, no data no breach, thresholds set."""
    resources = deployed(template)
    environments = [
        environment_settings(path)
        for path in sorted((project / "infra/environments").glob("*.env"))
    ]
    for logical_id, alarm in alarms_of(resources).items():
        properties = alarm["Properties"]
        assert properties["Period"] == 60, logical_id
        assert properties["DatapointsToAlarm"] <= properties["EvaluationPeriods"], logical_id
        assert properties["Period"] * properties["EvaluationPeriods"] <= 5 * 60, logical_id
        assert properties["TreatMissingData"] == "notBreaching", logical_id
        assert properties["ComparisonOperator"] == "GreaterThanThreshold", logical_id
        threshold = template["Resources"][logical_id]["Properties"]["Threshold"]["Ref"]
        assert template["Parameters"][threshold]["Type"] == "Number"
        assert all(threshold in settings for settings in environments), (logical_id, threshold)


def test_an_alarm_email_adds_a_topic_the_alarms_notify_and_no_email_none(template):
    """AlarmEmail set: an SNS topic mailing it is every alarm's action; empty: no topic."""
    quiet = deployed(template, AlarmEmail="")
    assert not {"AlarmTopic", "AlarmEmailSubscription"} & set(quiet)
    assert all("AlarmActions" not in alarm["Properties"] for alarm in alarms_of(quiet).values())

    mailing = deployed(template, AlarmEmail="on-call@example.com")
    assert mailing["AlarmEmailSubscription"]["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": "on-call@example.com",
    }
    for alarm in alarms_of(mailing).values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]

    pattern = template["Parameters"]["AlarmEmail"]["AllowedPattern"]
    assert re.fullmatch(pattern, "") and re.fullmatch(pattern, "on-call@example.com")
    assert not re.fullmatch(pattern, "on-call")
