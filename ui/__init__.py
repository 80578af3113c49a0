"""Shared pieces of the pages: knobs and data picker, run views, the verdict card, session state."""
