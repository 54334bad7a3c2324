"""The user's own FastAPI app as a target: run by its import string, measured by the
same probes as the built-in targets, driven by the user's locustfile, a file of the
user's requests, or a mix derived from the app's OpenAPI schema."""
