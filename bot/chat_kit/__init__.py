"""Pieces every platform folder shares (and none imports a platform SDK): the user cache, answering
within a platform's deadline (`ack_watch`, `deadline`), per-channel pacing."""
