"""The panes of the watch screen, one per module."""
