import sys

from tokenward.cli import main

sys.exit(main())
