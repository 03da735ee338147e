import sys

from ..deploy.bootstrap import main

sys.exit(main())
