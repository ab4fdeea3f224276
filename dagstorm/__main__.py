"""`python -m dagstorm`."""

from dagstorm.cli import main

main()
