"""The shell: the FastAPI application, the HTTP API, the web pages, the command line and the
demo data. Everything below it (``panels``, ``notifications``, ``services``, ``states``,
``workflow``) is usable without it; nothing below imports it."""
