"""Entry point of `python -m tracking_templates`."""

import sys

from .cli import main

sys.exit(main())
