"""`python -m hl_testkit.cli`."""

from hl_testkit.cli.main import main

raise SystemExit(main())
