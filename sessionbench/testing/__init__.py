"""sessionbench in a project's own tests: a pytest plugin (`pytest --sessionbench`, or
`@pytest.mark.sessionbench`) that fails a test whose app blocked its event loop, leaked a
session or connection, committed after its response, left a transaction open or built
an engine per request, naming the route and the app's line."""
