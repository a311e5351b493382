"""The service stack's safety nets: deployment alarms that roll back, and its release strategies.

Read statically from the rendered infra/service.yaml, resolved under each deployment
strategy the stack allows as CloudFormation would resolve its conditions; each strategy's
rendering is also linted by cfn-lint on its own. What ECS then does with a failing deploy
needs AWS: moto runs no deployments and raises no alarms.
"""

import copy
import json
import re

import pytest
import yaml
from conftest import (
    MATRIX,
    CloudFormationLoader,
    environment_settings,
    evaluate,
    require,
    resolve,
    run,
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
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c"


@pytest.fixture(scope="module")
def project(baked):
    # service.yaml renders alike for every combination (tests/test_cloudformation.py).
    return baked(MATRIX[0])


@pytest.fixture(scope="module")
def template(project):
    return yaml.load((project / "infra/service.yaml").read_text(), CloudFormationLoader)


@pytest.fixture(scope="module")
def strategies(template):
    return template["Parameters"]["DeploymentStrategy"]["AllowedValues"]


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


def test_every_alarm_is_a_deployment_alarm_of_the_service_with_rollback(template, strategies):
    """Under each strategy the service rolls back on each alarm the stack holds, and only those."""
    for strategy in strategies:
        resources = deployed(template, DeploymentStrategy=strategy)
        alarms = alarms_of(resources)
        settings = deployment_configuration(resources)["Alarms"]
        assert (settings["Enable"], settings["Rollback"]) == (True, True), strategy
        assert sorted(name["Ref"] for name in settings["AlarmNames"]) == sorted(alarms), strategy
        metrics = {alarm["Properties"]["MetricName"] for alarm in alarms.values()}
        assert metrics == ALARMED_METRICS, strategy


def test_each_target_group_the_service_uses_has_an_unhealthy_targets_alarm(template, strategies):
    """Health is counted per target group: the alternate one of a canary is watched too."""
    for strategy in strategies:
        resources = deployed(template, DeploymentStrategy=strategy)
        (balanced,) = resources["Service"]["Properties"]["LoadBalancers"]
        used = {balanced["TargetGroupArn"]["Ref"]}
        if "AdvancedConfiguration" in balanced:
            used.add(balanced["AdvancedConfiguration"]["AlternateTargetGroupArn"]["Ref"])
        watched = {
            dimension["Value"]["Fn::GetAtt"][0]
            for alarm in alarms_of(resources).values()
            if alarm["Properties"]["MetricName"] == "UnHealthyHostCount"
            for dimension in alarm["Properties"]["Dimensions"]
            if dimension["Name"] == "TargetGroup"
        }
        assert watched == used, strategy


def test_an_alarm_fires_within_the_bake_time_on_a_threshold_each_environment_sets(
    template, project
):
    """One-minute periods, in alarm within the bake time, no data no breach, thresholds set."""
    resources = deployed(template, DeploymentStrategy="CANARY")
    bake_seconds = 60 * deployment_configuration(resources)["BakeTimeInMinutes"]
    environments = [
        environment_settings(path)
        for path in sorted((project / "infra/environments").glob("*.env"))
    ]
    for logical_id, alarm in alarms_of(resources).items():
        properties = alarm["Properties"]
        assert properties["Period"] == 60, logical_id
        assert properties["DatapointsToAlarm"] <= properties["EvaluationPeriods"], logical_id
        assert properties["Period"] * properties["EvaluationPeriods"] < bake_seconds, logical_id
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


def test_the_circuit_breaker_is_on_for_rolling_deploys_only(template, strategies):
    """ROLLING turns it on with rollback; the others turn it off and roll back on alarms."""
    assert template["Parameters"]["DeploymentStrategy"]["Default"] == "ROLLING"
    for strategy in strategies:
        settings = deployment_configuration(deployed(template, DeploymentStrategy=strategy))
        assert settings["Strategy"] == strategy
        on = strategy == "ROLLING"
        assert settings["DeploymentCircuitBreaker"] == {"Enable": on, "Rollback": on}, strategy


def test_rolling_deploys_need_one_target_group_and_no_listener_rule(template):
    """Nothing a traffic shift needs is created for ROLLING, and no bake time is set."""
    resources = deployed(template, DeploymentStrategy="ROLLING")
    assert not {"AlternateTargetGroup", "ProductionListenerRule", "LoadBalancerTrafficRole"} & set(
        resources
    )
    (balanced,) = resources["Service"]["Properties"]["LoadBalancers"]
    assert "AdvancedConfiguration" not in balanced
    settings = deployment_configuration(resources)
    assert not {"BakeTimeInMinutes", "CanaryConfiguration"} & set(settings)


@pytest.mark.parametrize(
    ("certificate", "listener"), [("", "HttpListener"), (CERTIFICATE, "HttpsListener")]
)
def test_traffic_shifting_strategies_weigh_the_production_rule_between_two_target_groups(
    template, strategies, certificate, listener
):
    """The serving listener's rule forwards to both target groups; ECS gets it and a role."""
    for strategy in set(strategies) - {"ROLLING"}:
        resources = deployed(template, DeploymentStrategy=strategy, CertificateArn=certificate)
        (balanced,) = resources["Service"]["Properties"]["LoadBalancers"]
        advanced = balanced["AdvancedConfiguration"]
        assert advanced["RoleArn"] == {"Fn::GetAtt": ["LoadBalancerTrafficRole", "Arn"]}
        rule = resources[advanced["ProductionListenerRule"]["Ref"]]["Properties"]
        assert rule["ListenerArn"] == {"Ref": listener}
        (forward,) = rule["Actions"]
        weights = {
            group["TargetGroupArn"]["Ref"]: group["Weight"]
            for group in forward["ForwardConfig"]["TargetGroups"]
        }
        primary, alternate = (
            balanced["TargetGroupArn"]["Ref"],
            advanced["AlternateTargetGroupArn"]["Ref"],
        )
        assert weights == {primary: 1, alternate: 0}, strategy
        # The two take turns serving, so they check health alike.
        assert resources[primary]["Properties"] == resources[alternate]["Properties"]
        settings = deployment_configuration(resources)
        assert settings["BakeTimeInMinutes"] == int(
            template["Parameters"]["BakeTimeMinutes"]["Default"]
        )
        assert ("CanaryConfiguration" in settings) == (strategy == "CANARY"), strategy


def test_each_strategy_an_environment_can_choose_renders_a_service_cfn_lint_accepts(
    template, strategies, project, tmp_path
):
    """The stack with DeploymentStrategy pinned to each allowed value is cfn-lint clean.

    cfn-lint reads the parameter's AllowedValues to decide which branches of the
    conditions can happen, so each pinned copy is linted as that strategy alone.
    """
    cfn_lint = require("cfn-lint", "cfn-lint is in requirements-dev.txt")
    chosen = {
        environment_settings(path)["DeploymentStrategy"]
        for path in (project / "infra/environments").glob("*.env")
    }
    assert chosen <= set(strategies)
    assert {"ROLLING", "CANARY"} <= set(strategies)
    pinned = []
    for strategy in strategies:
        copied = copy.deepcopy(template)
        copied["Parameters"]["DeploymentStrategy"].update(
            Default=strategy, AllowedValues=[strategy]
        )
        path = tmp_path / f"service-{strategy}.json"
        path.write_text(json.dumps(copied, indent=1))
        pinned.append(path)
    run(cfn_lint, "--format", "parseable", *pinned)
