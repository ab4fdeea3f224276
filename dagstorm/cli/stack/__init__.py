"""Commands for the stack under test: `dagstorm stack …`, `dagstorm fault …` and `recover`."""
