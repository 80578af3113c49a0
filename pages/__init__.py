"""Dashboard pages: thin layers that read widgets, call core, and draw what comes back."""
