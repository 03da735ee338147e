"""Code both functions need lives once, in the tracking function, with a byte-identical copy in
the notifier's folder: each zip holds only its own function's folder (as the local runtime and
these tests load it), so a shared folder would have to be taught to the packager, the local
runtime, the cold-start benchmark and the tests; one file copied and this check cost less."""

from __future__ import annotations

from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
# The source (edit this one) -> its copies.
SHARED = {
    FUNCTIONS / "tracking" / "tracking_api" / "jsonwriter.py": [
        FUNCTIONS / "notifier" / "status_notifier" / "jsonwriter.py",
    ],
    # Each copy finds the botocore_data/ folder beside itself.
    FUNCTIONS / "tracking" / "tracking_api" / "trimmed_data.py": [
        FUNCTIONS / "notifier" / "status_notifier" / "trimmed_data.py",
    ],
    FUNCTIONS / "tracking" / "tracking_api" / "snapstart.py": [
        FUNCTIONS / "notifier" / "status_notifier" / "snapstart.py",
    ],
}


@pytest.mark.parametrize(("source", "copy"), [(s, c) for s, copies in SHARED.items() for c in copies],
                         ids=lambda path: path.relative_to(FUNCTIONS).as_posix())
def test_copies_of_shared_code_are_identical(source: Path, copy: Path) -> None:
    # GIVEN a module both functions use  THEN the notifier ships exactly the API's code
    assert copy.read_bytes() == source.read_bytes(), f"copy {source} over {copy} (the first is the one to edit)"


def test_shared_code_imports_nothing_of_either_function() -> None:
    # GIVEN each shared module  THEN it stands alone (a relative import would differ between the two packages)
    for source in SHARED:
        text = source.read_text(encoding="utf-8")
        assert "from ." not in text and "import tracking_api" not in text and "import status_notifier" not in text
