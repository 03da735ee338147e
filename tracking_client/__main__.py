"""`python -m tracking_client`."""

import sys

from .cli import main

sys.exit(main())
