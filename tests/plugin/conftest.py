# The project under test is a user's service with its own tests: only the plugin's
# tests run it, through pytester.
collect_ignore = ["project"]
