"""The notifier's trimmed botocore data: a fresh cut, used by every client of the function, same endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from status_notifier import clients, flags, projection, publisher, trimmed_data

from scripts.package import trim_botocore_models as trim

from .conftest import FLAGS_PARAM, ORIGINAL_FLAGS, NotifierStack

CALLED = {"dynamodb": {"PutItem"}, "sns": {"Publish"}, "ssm": {"GetParameter"}}


def test_committed_files_are_a_fresh_cut_of_the_installed_botocore() -> None:
    # GIVEN the models committed beside the notifier
    committed = Path(trimmed_data.DATA_DIR)
    assert committed == trim.NOTIFIER_OUT
    # WHEN they are cut again from the botocore installed now, for the operations it calls
    fresh = trim.trimmed_data(trim.NOTIFIER_OPERATIONS)
    # THEN they are the same files, byte for byte (else: python -m scripts.package.trim_botocore_models --function notifier)
    on_disk = {p.relative_to(committed).as_posix(): p.read_text(encoding="utf-8") for p in committed.rglob("*.json")}
    assert sorted(on_disk) == sorted(fresh)
    assert all(on_disk[relative] == text for relative, text in fresh.items())
    assert {service: set(ops) for service, ops in trim.NOTIFIER_OPERATIONS.items()} == CALLED
    assert trim.main(["--function", "all", "--check"]) == 0


def test_out_names_one_folder_only(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        trim.main(["--function", "all", "--out", "somewhere"])
    assert exit_info.value.code == 2
    assert "--out names one folder: give --function too" in capsys.readouterr().err


def test_every_client_of_the_function_is_built_on_the_trimmed_models(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a user's AWS_DATA_PATH (it must not win over the function's models)
    monkeypatch.setenv("AWS_DATA_PATH", "/nonexistent")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    clients.reset()
    try:
        # WHEN the function's code asks for its clients (the projection's, the publisher's, the flags')
        made = {"dynamodb": projection.dynamodb_client(), "sns": publisher.sns_client(),
                "ssm": clients.ssm_provider().client}  # fmt: skip
        # THEN each knows the operations called (and DynamoDB's endpoint discovery), nothing more
        assert {s: set(c.meta.service_model.operation_names) for s, c in made.items()} == {
            **CALLED, "dynamodb": {"PutItem", "DescribeEndpoints"}
        }
        # AND keeps the modelled exceptions
        assert made["dynamodb"].exceptions.ConditionalCheckFailedException.__name__ == "ConditionalCheckFailedException"
        assert made["ssm"].exceptions.ParameterNotFound.__name__ == "ParameterNotFound"
        # AND each is made once, from the session whose loader searches the trimmed data first
        assert projection.dynamodb_client() is made["dynamodb"] and publisher.sns_client() is made["sns"]
        loader = clients.session()._session.get_component("data_loader")
        assert loader.search_paths[0] == trimmed_data.DATA_DIR
        assert loader.load_data_with_path("endpoints")[1].startswith(trimmed_data.DATA_DIR)
        # AND a reset forgets them all
        clients.reset()
        assert publisher.sns_client() is not made["sns"]
    finally:
        clients.reset()


def test_trimmed_endpoints_resolve_every_region_as_the_full_file() -> None:
    from botocore.regions import EndpointResolver

    full_data = trim._installed_loader().load_data("endpoints")
    cut_data = json.loads((Path(trimmed_data.DATA_DIR) / "endpoints.json").read_text(encoding="utf-8"))
    full, cut = EndpointResolver(full_data, uses_builtin_data=True), EndpointResolver(cut_data, uses_builtin_data=True)
    regions = [region for partition in full_data["partitions"] for region in partition["regions"]]
    for prefix in ("dynamodb", "sns", "ssm"):
        for region in [*regions, "local", "eu-future-9"]:
            for fips in (False, True):
                assert cut.construct_endpoint(prefix, region, use_fips_endpoint=fips) == full.construct_endpoint(
                    prefix, region, use_fips_endpoint=fips
                ), (prefix, region, fips)


def test_the_flag_is_read_through_the_functions_own_ssm_client(stack: NotifierStack) -> None:
    # GIVEN the flags parameter in moto  WHEN the flag is read
    assert flags.real_time_notifications_enabled(FLAGS_PARAM) is ORIGINAL_FLAGS[flags.REAL_TIME_NOTIFICATIONS]
    # THEN the read went through the function's provider (trimmed SSM model), which caches it
    provider = clients.ssm_provider()
    assert set(provider.client.meta.service_model.operation_names) == {"GetParameter"}
    assert provider.has_not_expired_in_cache(provider._build_cache_key(name=FLAGS_PARAM, transform="json"))
