"""Deploying: the stack's template, change sets, the guard, protection and events, and the
bootstrap stack; `python -m scripts.deploy` is its command."""
