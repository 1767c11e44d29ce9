import sys

from imugait.cli import main

sys.exit(main())
