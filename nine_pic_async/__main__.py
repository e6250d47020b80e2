"""`python -m nine_pic_async` runs the `ninepic` command."""

import sys

from .cli import main

sys.exit(main())
