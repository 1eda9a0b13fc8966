"""Route modules of the HTTP service."""
