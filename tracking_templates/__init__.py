"""Generates the logistics-tracking CloudFormation template with troposphere and awacs."""
