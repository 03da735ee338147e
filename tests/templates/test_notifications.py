"""The topic, the conditional email subscription, Parameters and Outputs."""

from __future__ import annotations

from tracking_templates.names import ENV_PATTERN, MoreOutputs, Outputs, Params, Resources

from .conftest import ENVIRONMENTS


def test_email_subscription_exists_only_with_an_address(dev: dict) -> None:
    # GIVEN the subscription and the condition it is under
    subscription = dev["Resources"][Resources.EMAIL_SUBSCRIPTION]
    condition = dev["Conditions"][subscription["Condition"]]
    # THEN the condition is "NotificationEmail is not empty" and it subscribes that address
    assert condition == {"Fn::Not": [{"Fn::Equals": [{"Ref": Params.NOTIFICATION_EMAIL}, ""]}]}
    assert subscription["Properties"] == {
        "Endpoint": {"Ref": Params.NOTIFICATION_EMAIL},
        "Protocol": "email",
        "TopicArn": {"Ref": Resources.TOPIC},
    }


def test_parameters_are_only_the_deploy_time_ones(templates: dict) -> None:
    for env in ENVIRONMENTS:
        parameters = templates[env]["Parameters"]
        assert set(parameters) == {Params.ENVIRONMENT, Params.CODE_BUCKET, Params.CODE_KEY,
                                   Params.NOTIFIER_CODE_KEY, Params.CODE_SHA256, Params.NOTIFIER_CODE_SHA256,
                                   Params.CODE_OBJECT_VERSION, Params.NOTIFIER_CODE_OBJECT_VERSION,
                                   Params.NOTIFICATION_EMAIL}
        assert parameters[Params.ENVIRONMENT]["Default"] == env
        assert parameters[Params.ENVIRONMENT]["AllowedPattern"] == ENV_PATTERN
        assert parameters[Params.NOTIFICATION_EMAIL]["Default"] == ""
        for code in (Params.CODE_BUCKET, Params.CODE_KEY, Params.NOTIFIER_CODE_KEY, Params.CODE_SHA256,
                     Params.NOTIFIER_CODE_SHA256, Params.CODE_OBJECT_VERSION, Params.NOTIFIER_CODE_OBJECT_VERSION):
            assert "Default" not in parameters[code]


def test_outputs_include_the_contracts_and_build_urls_from_pseudo_parameters(dev: dict) -> None:
    outputs = dev["Outputs"]
    contract = {Outputs.API_ENDPOINT, Outputs.TABLE_NAME, Outputs.LAMBDA_FUNCTION_NAME, Outputs.DLQ_URL, Outputs.DASHBOARD_URL}
    more = {v for k, v in vars(MoreOutputs).items() if not k.startswith("_")}
    assert set(outputs) == contract | more
    endpoint = outputs[Outputs.API_ENDPOINT]["Value"]["Fn::Sub"][0]
    assert endpoint == "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Environment}"
    assert "${AWS::Region}" in outputs[Outputs.DASHBOARD_URL]["Value"]["Fn::Sub"][0]


def test_outputs_never_read_attributes_of_types_moto_skips(dev: dict) -> None:
    # moto skips these types, and an Output with Fn::GetAtt on one fails the whole stack.
    skipped = {"AWS::SNS::Subscription", "AWS::ApiGateway::Model", "AWS::ApiGateway::RequestValidator",
               "AWS::ApiGateway::Stage", "AWS::CloudWatch::Alarm", "AWS::S3::BucketPolicy", "AWS::ApiGateway::Account"}
    import json

    text = json.dumps(dev["Outputs"])
    for name, resource in dev["Resources"].items():
        if resource["Type"] in skipped:
            assert f'"{name}"' not in text, name
