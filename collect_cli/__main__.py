"""`python -m collect_cli` runs the same CLI as the `collect` command."""

from collect_cli.cli.app import main

main()
