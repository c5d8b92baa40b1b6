"""`python -m tokenward` runs the command line."""

from tokenward.cli import main

main()
