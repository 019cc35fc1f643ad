"""The platform-neutral core: requests in, replies out. No platform SDK is imported here."""
