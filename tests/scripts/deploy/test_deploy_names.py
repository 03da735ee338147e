"""The names and tags users give the deploy: CloudFormation's limits at their exact boundaries, one-line refusals."""

from __future__ import annotations

import pytest

from scripts.deploy.names import MAX_STACK_TAGS, validate_stack_name, validate_stack_tags
from scripts.errors import UsageError


@pytest.mark.parametrize("name", ["a", "A", "tracking-prod", "a" + "b1-" * 42 + "c"])
def test_stack_names_cloudformation_accepts_are_returned(name: str) -> None:
    assert len(name) <= 128 and validate_stack_name(name) == name


@pytest.mark.parametrize("name", ["", "1app", "-app", "app_1", "app\n", "a" * 129, "tracking prod", None])
def test_other_stack_names_are_refused_in_one_line(name: object) -> None:
    with pytest.raises(UsageError) as refused:
        validate_stack_name(name)  # type: ignore[arg-type]
    assert str(refused.value) == (
        f"invalid stack name {name!r}: use a letter, then letters, digits or hyphens (at most 128 characters)"
    )


def test_tags_at_every_limit_are_accepted() -> None:
    tags = {f"k{n}": "v" for n in range(MAX_STACK_TAGS)}
    assert MAX_STACK_TAGS == 50 and validate_stack_tags(tags) is tags
    edge = {"k" * 128: "v" * 256, "x": "1", "awsome:tag": "1", "my-aws:tag": "1"}
    assert validate_stack_tags(edge) == edge


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({f"k{n}": "v" for n in range(51)}, "--tags: 51 tags, CloudFormation takes at most 50"),
        ({"k" * 129: "v"}, f"--tags: invalid key {'k' * 129!r}: at most 128 characters, not starting with 'aws:'"),
        ({"aws:team": "v"}, "--tags: invalid key 'aws:team': at most 128 characters, not starting with 'aws:'"),
        ({"AWS:team": "v"}, "--tags: invalid key 'AWS:team': at most 128 characters, not starting with 'aws:'"),
        ({"team": ""}, "--tags: team='': the value must be 1 to 256 characters"),
        ({"team": "v" * 257}, f"--tags: team={'v' * 257!r}: the value must be 1 to 256 characters"),
    ],
)
def test_tags_cloudformation_refuses_are_named_with_the_flag(tags: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as refused:
        validate_stack_tags(tags)
    assert str(refused.value) == message


def test_tags_from_elsewhere_are_named_by_where_they_came_from() -> None:
    with pytest.raises(UsageError) as refused:
        validate_stack_tags({"team": ""}, where="deploy.tags")
    assert str(refused.value) == "deploy.tags: team='': the value must be 1 to 256 characters"
    with pytest.raises(UsageError) as refused:
        validate_stack_tags({"team": ""}, where="")
    assert str(refused.value) == "team='': the value must be 1 to 256 characters"
