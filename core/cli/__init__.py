"""`python -m core ...`: the command-line contract (see `commands`)."""
