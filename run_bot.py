"""Start the newcomer welcome bot: `python run_bot.py --help` lists the commands."""

from bot.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
