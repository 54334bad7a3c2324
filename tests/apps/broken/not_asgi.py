"""Bad input: `app` is not an ASGI app."""

app = "an app in name only"
