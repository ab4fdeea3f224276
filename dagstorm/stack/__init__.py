"""The stack under test: the embedded launcher and the endpoints of any stack kind."""
