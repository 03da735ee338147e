"""Rendering validates the template as troposphere does."""

from __future__ import annotations

import pytest
from troposphere import Template
from troposphere.dynamodb import KeySchema, Table
from troposphere.sqs import Queue
from troposphere.ssm import Parameter as SsmParameter

from tracking_templates.render import to_json


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
