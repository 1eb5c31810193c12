"""`python -m demo` (what `make demo` runs): see :mod:`demo.story`."""

import sys

from demo.story import main

sys.exit(main())
