import sys

from ..package.locks import main

sys.exit(main())
