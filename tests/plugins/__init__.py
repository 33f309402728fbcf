"""Plug-in tests: extensions registered from outside the sim package, as a user would."""
