"""`python -m bot.cli` = `kpibot`."""

from bot.cli import main

main()
