"""`python -m sample_data --out DIR [--children N] [--seed S]`: the same as `python -m sample_data.generate`."""

import sys

from sample_data.generate import main

sys.exit(main())
