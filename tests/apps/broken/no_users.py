"""Bad input: a locustfile without a user class."""

from locust import between

wait_time = between(1, 2)
