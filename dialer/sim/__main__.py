"""``python -m dialer.sim run|grid ...``: see ``dialer.sim.cli``."""

import sys

from dialer.sim.cli import main

sys.exit(main())
