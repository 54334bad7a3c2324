"""Database provisioning: each database kind yields a server that hands out fresh databases."""
