"""Rendering: troposphere's data and validation, and json.dumps(indent=1)'s text of it, in one pass each."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from troposphere import Template
from troposphere.dynamodb import KeySchema, Table
from troposphere.sqs import Queue
from troposphere.ssm import Parameter as SsmParameter

from tracking_templates.render import _InOrder, _sorted, _write_json, to_json
from tracking_templates.settings import settings_for
from tracking_templates.template import build_template

from .conftest import ENVIRONMENTS

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=25,
)


def _written(value: object) -> str:
    pieces: list[str] = []
    _write_json(value, pieces.append, "\n")
    return "".join(pieces)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_writer_matches_json_dumps(value: object) -> None:
    # GIVEN any JSON data (unicode, escapes, NaN and infinities, empty and nested containers)
    # THEN the writer's text is json's, keys sorted
    assert _written(value) == json.dumps(_sorted(value), indent=1, ensure_ascii=False)


def test_in_order_mappings_keep_their_order() -> None:
    # GIVEN a mapping whose order matters, holding one whose order does not
    value = _InOrder([("b", {"y": 1, "x": [2.5, None]}), ("a", True)])
    # THEN only the inner one is sorted
    assert _written(value) == json.dumps({"b": {"x": [2.5, None], "y": 1}, "a": True}, indent=1)


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (lambda: SsmParameter("Param", Value="v"), "Resource Type required"),  # a required property
        (lambda: Table("Table", BillingMode="PAY_PER_REQUEST", KeySchema=[KeySchema(AttributeName="id")]),
         "KeyType required"),  # a nested property's required property
        (lambda: Queue("Queue", FifoQueue=True, QueueName="plain"), "ends with '.fifo'"),  # the class's validate()
    ],
)
def test_rendering_validates_every_object_as_troposphere_does(resource, message: str) -> None:
    # GIVEN a template with an invalid object
    template = Template()
    template.add_resource(resource())
    # THEN troposphere refuses it, and so does the renderer
    with pytest.raises(ValueError, match=message):
        template.to_dict()
    with pytest.raises(ValueError, match=message):
        to_json(template)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rendered_data_is_troposphere_data(env: str, templates: dict) -> None:
    # GIVEN troposphere's own to_dict of the template  THEN the rendered JSON holds the same data
    assert templates[env] == json.loads(json.dumps(build_template(settings_for(env)).to_dict()))
