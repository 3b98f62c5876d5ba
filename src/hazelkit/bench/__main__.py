"""``python -m hazelkit.bench``: the same as ``hazelkit bench``."""

import sys

from hazelkit.bench import main

raise SystemExit(main(sys.argv[1:]))
