"""`python -m bot` is the same as `python run_bot.py`."""

from bot.cli.main import main

raise SystemExit(main())
