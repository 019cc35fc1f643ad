"""Command handlers: a parsed command and its context in, a neutral reply out."""
