"""Targets that reproduce five public posts' session code faithfully, mistakes included.

Each module quotes its post's code and names the post in `Strategy.source`.  Beyond
that code, an engine gets only what the harness needs from every target: the route
contract's SQLite sleep function (`serve_contract`), a name the database server shows
for its connections (`connect_args`), and the probes (`create_app(engine=...)`).
"""
