"""The commands that ship and run the API: package, lock, bootstrap, deploy, local.

Each is a subpackage run as `python -m scripts.NAME`; what they all share (boto3 clients,
argument helpers, the console, the errors) is the few modules at this level.
"""
