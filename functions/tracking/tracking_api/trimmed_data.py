"""botocore's data loader for the function's session: trimmed copies of botocore's data first.

`botocore_data/` holds files cut from the installed botocore by `scripts/trim_botocore_models.py`
(a test keeps them identical to a fresh cut): service models with only the operations this
function calls, and endpoints.json with only its services. Parsing those instead of the full
files (950 KB SSM model, 550 KB DynamoDB model, 1.25 MB endpoints.json) is most of what a
client costs at cold start.

botocore treats an endpoints.json found outside its own data folder as a user override and
then hands the legacy endpoint to the endpoint ruleset as if it were a custom endpoint_url.
The trimmed file is botocore's own data, verbatim for these services, so this loader reports
it as bundled data: endpoints resolve exactly as with the full file.
"""

from __future__ import annotations

import os
from typing import Any

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "botocore_data")


def loader(data_path: str | None = None) -> Any:
    """A botocore Loader searching DATA_DIR first, then AWS_DATA_PATH (data_path), then botocore's own."""
    from botocore.loaders import Loader

    class TrimmedDataLoader(Loader):
        """botocore's Loader, with DATA_DIR (cut from botocore's data) counted as bundled data."""

        def is_builtin_path(self, path: str) -> bool:
            return os.path.expanduser(os.path.expandvars(path)).startswith(DATA_DIR) or super().is_builtin_path(path)

    extra = [os.path.expanduser(os.path.expandvars(p)) for p in (data_path or "").split(os.pathsep) if p]
    return TrimmedDataLoader(extra_search_paths=[DATA_DIR, *extra])


def new_session() -> Any:
    """A new boto3 Session of our own whose loader reads DATA_DIR first (boto3's default session keeps the full data)."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    # Before anything reads data: the trimmed files first, ahead of any AWS_DATA_PATH too.
    core.register_component("data_loader", loader(core.get_config_variable("data_path")))
    return boto3.Session(botocore_session=core)
