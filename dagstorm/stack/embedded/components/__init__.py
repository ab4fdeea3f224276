"""One module per embedded-stack component."""
