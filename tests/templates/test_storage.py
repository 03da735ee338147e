"""Storage, encryption and SSM parameters: keys, stream, retention and encryption policies."""

from __future__ import annotations

import json

from tracking_templates.names import STATE_INDEX, Resources
from tracking_templates.settings import settings_for
from tracking_templates.parameters import API_CONFIG, FEATURE_FLAGS

from .conftest import ENVIRONMENTS, resources_of_type


def _key_ref(resource_props_value: dict) -> str:
    return resource_props_value["Fn::GetAtt"][0]


def test_table_keys_index_and_stream(dev: dict) -> None:
    # GIVEN the table
    table = dev["Resources"][Resources.TABLE]["Properties"]
    # THEN keys, index, stream and billing are the design's
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "tracking_id", "KeyType": "HASH"},
        {"AttributeName": "timestamp", "KeyType": "RANGE"},
    ]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types == {"tracking_id": "S", "timestamp": "N"}
    # No index keyed by the raw status (StatusIndex is retired): the table has no index at all
    assert "GlobalSecondaryIndexes" not in table
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_state_table_is_one_item_per_shipment_with_a_write_sharded_index(dev: dict) -> None:
    # GIVEN the state table
    table = dev["Resources"][Resources.STATE_TABLE]["Properties"]
    # THEN it is keyed by shipment alone: the index holds one entry per shipment (sparse), not per update
    assert table["KeySchema"] == [{"AttributeName": "tracking_id", "KeyType": "HASH"}]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert types == {"tracking_id": "S", "listing_shard": "S", "listing_rank": "N"}
    # AND its only index is keyed by "<status>#<shard>" and ranked by the update's time
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == STATE_INDEX == "CurrentStatusIndex"
    assert index["KeySchema"] == [
        {"AttributeName": "listing_shard", "KeyType": "HASH"},
        {"AttributeName": "listing_rank", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    # AND it is billed, recovered and protected like the tracking table, with no stream of its own
    tracking = dev["Resources"][Resources.TABLE]["Properties"]
    for prop in ("BillingMode", "PointInTimeRecoverySpecification", "SSESpecification", "DeletionProtectionEnabled"):
        assert table[prop] == tracking[prop], prop
    assert "StreamSpecification" not in table


def test_idempotency_table_is_powertools_layout_expiring_by_ttl_and_protected(templates: dict) -> None:
    for env in ENVIRONMENTS:
        # GIVEN the idempotency table of each environment
        table = templates[env]["Resources"][Resources.IDEMPOTENCY_TABLE]["Properties"]
        # THEN keyed by the record id powertools writes, with its expiry as the TTL attribute
        assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
        assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
        # AND billed, encrypted with the stack's key, recovered and protected like the tracking table
        tracking = templates[env]["Resources"][Resources.TABLE]["Properties"]
        for prop in ("BillingMode", "PointInTimeRecoverySpecification", "SSESpecification",
                     "DeletionProtectionEnabled", "Tags"):
            assert table[prop] == tracking[prop], (env, prop)
        assert _key_ref(table["SSESpecification"]["KMSMasterKeyId"]) == Resources.KEY
        assert "StreamSpecification" not in table and "GlobalSecondaryIndexes" not in table


def test_no_partition_key_has_only_a_handful_of_values(templates: dict) -> None:
    # GIVEN every table and index of every environment
    for env in ENVIRONMENTS:
        shards = settings_for(env).listing_shards
        for resource in resources_of_type(templates[env], "AWS::DynamoDB::Table").values():
            props = resource["Properties"]
            keyed = [props["KeySchema"], *(i["KeySchema"] for i in props.get("GlobalSecondaryIndexes", []))]
            for schema in keyed:
                (hash_key,) = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
                # THEN no key is the raw status; the listing key spreads each status over >= 2 shards;
                # the idempotency table's "id" is a hash of each client's key
                assert hash_key in ("tracking_id", "listing_shard", "id"), (env, hash_key)
        assert shards >= (16 if env == "prod" else 2), env


def test_data_is_never_dropped_by_a_template_change(templates: dict) -> None:
    for env in ENVIRONMENTS:
        resources = templates[env]["Resources"]
        # GIVEN the stateful resources and the key that makes their data readable
        for logical_id in (Resources.TABLE, Resources.STATE_TABLE, Resources.IDEMPOTENCY_TABLE, Resources.DLQ,
                           Resources.KEY):
            # THEN neither deletion nor replacement drops them
            assert resources[logical_id]["DeletionPolicy"] == "Retain", (env, logical_id)
            assert resources[logical_id]["UpdateReplacePolicy"] == "Retain", (env, logical_id)


def test_everything_stored_is_encrypted_with_the_stack_key(dev: dict) -> None:
    res = dev["Resources"]
    # GIVEN a rotating customer-managed key
    assert res[Resources.KEY]["Properties"]["EnableKeyRotation"] is True
    # THEN table, queue, topic and every log group use it
    for table in (Resources.TABLE, Resources.STATE_TABLE):
        sse = res[table]["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS"
        assert _key_ref(sse["KMSMasterKeyId"]) == Resources.KEY
    assert _key_ref(res[Resources.DLQ]["Properties"]["KmsMasterKeyId"]) == Resources.KEY
    assert _key_ref(res[Resources.TOPIC]["Properties"]["KmsMasterKeyId"]) == Resources.KEY
    log_groups = resources_of_type(dev, "AWS::Logs::LogGroup")
    assert len(log_groups) == 4
    for log_group in log_groups.values():
        assert _key_ref(log_group["Properties"]["KmsKeyId"]) == Resources.KEY


def test_key_policy_lets_logs_and_alarms_use_the_key(dev: dict) -> None:
    # GIVEN the key policy
    statements = dev["Resources"][Resources.KEY]["Properties"]["KeyPolicy"]["Statement"]
    principals = [s["Principal"] for s in statements]
    # THEN the account delegates to IAM, and CloudWatch Logs and alarms (publishing to the
    # encrypted topic) are named; no wildcard principal
    assert {"Service": "cloudwatch.amazonaws.com"} in principals
    assert any("logs." in json.dumps(p) for p in principals)
    assert all(p != "*" and p != {"AWS": "*"} for p in principals)


def test_regional_hosts_and_principals_take_the_partitions_domain(dev: dict) -> None:
    # GIVEN every string in the template (Fn::Sub bodies included)
    def strings(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for value in node.values() for s in strings(value)]
        if isinstance(node, list):
            return [s for value in node for s in strings(value)]
        return []

    # THEN none built per region hard-codes amazonaws.com: ${AWS::URLSuffix} (amazonaws.com.cn in
    # China) is used, as for the KMS key's CloudWatch Logs principal
    regional = [s for s in strings(dev) if "${AWS::Region}" in s]
    assert regional and not [s for s in regional if "amazonaws.com" in s]
    key_policy = dev["Resources"][Resources.KEY]["Properties"]["KeyPolicy"]
    assert {"Service": {"Fn::Sub": "logs.${AWS::Region}.${AWS::URLSuffix}"}} in [
        s["Principal"] for s in key_policy["Statement"]
    ]


def test_dead_letter_queue(dev: dict) -> None:
    queue = dev["Resources"][Resources.DLQ]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert queue["VisibilityTimeout"] == 300


def test_log_retention_per_environment(templates: dict) -> None:
    # GIVEN each environment's log groups
    expected = {"dev": (7, "Delete"), "staging": (30, "Delete"), "prod": (365, "Retain")}
    for env, (days, policy) in expected.items():
        for log_group in resources_of_type(templates[env], "AWS::Logs::LogGroup").values():
            # THEN retention and deletion policy follow the environment's settings
            assert log_group["Properties"]["RetentionInDays"] == days, env
            assert log_group["DeletionPolicy"] == policy, env


def test_function_log_groups_are_named_as_lambda_expects(dev: dict) -> None:
    subs = [lg["Properties"]["LogGroupName"]["Fn::Sub"] for lg in resources_of_type(dev, "AWS::Logs::LogGroup").values()]
    names = {sub if isinstance(sub, str) else sub[0] for sub in subs}
    assert "/aws/lambda/tracking-processor-${Environment}" in names
    assert "/aws/lambda/tracking-notifier-${Environment}" in names


def test_ssm_parameters_have_the_original_paths_and_values(dev: dict) -> None:
    res = dev["Resources"]
    # GIVEN the three parameters
    config, db, flags = (res[i]["Properties"] for i in (Resources.CONFIG_PARAM, Resources.DB_PARAM, Resources.FEATURE_FLAGS_PARAM))
    # THEN paths, types and values are the design's (String: CloudFormation has no SecureString)
    assert config["Name"] == {"Fn::Sub": "/logistics/api/${Environment}/config"}
    assert db["Name"] == {"Fn::Sub": "/logistics/db/${Environment}/endpoint"}
    assert flags["Name"] == {"Fn::Sub": "/logistics/features/${Environment}/flags"}
    assert {config["Type"], db["Type"], flags["Type"]} == {"String"}
    assert json.loads(config["Value"]) == API_CONFIG == {"max_request_size": "10MB", "timeout": 30, "rate_limit": 100}
    assert json.loads(flags["Value"]) == FEATURE_FLAGS
    assert FEATURE_FLAGS["real_time_notifications"] is True
    assert db["Value"] == {"Ref": Resources.TABLE}


def test_table_deletion_protection_only_in_prod(templates: dict) -> None:
    for env, protected in (("dev", False), ("staging", False), ("prod", True)):
        assert templates[env]["Resources"][Resources.TABLE]["Properties"]["DeletionProtectionEnabled"] is protected
