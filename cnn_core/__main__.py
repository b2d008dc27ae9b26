"""``python -m cnn_core``: the same command line as ``cnn-core``."""
import sys

from cnn_core.cli import main

sys.exit(main())
