"""A local stand-in for API Gateway, driven by the deployed CloudFormation template.

Only `scripts.local` uses it: routes, authorization, request validation and the stage come
from the template's `AWS::ApiGateway::*` resources, and the integrations' Lambda functions run
in-process against the embedded moto server.
"""
