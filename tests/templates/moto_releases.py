"""The template's moto tests host the release resources as the local emulator does (one copy: scripts.local's)."""

from scripts.local.moto_releases import register

__all__ = ["register"]
