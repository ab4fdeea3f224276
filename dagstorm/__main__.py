"""`python -m dagstorm`."""

from dagstorm.cli import main

if __name__ == "__main__":  # not when a spawned worker (encode pool) imports it
    main()
