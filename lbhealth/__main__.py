"""``python -m lbhealth`` is the same as the ``lbhealth`` command."""

import sys

from lbhealth.cli import main

sys.exit(main())
