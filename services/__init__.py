"""The service: HTTP API, storage, authentication, logging and the command line."""
