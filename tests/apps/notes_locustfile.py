"""A locustfile as a team keeps one beside its service: its own User class, its own
request names (`/notes/[id]`), a write then a read of what was written."""

import random

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser


class NotesUser(FastHttpUser):
    wait_time = between(0.0, 0.01)

    @task(3)
    def write_then_read(self) -> None:
        created = self.client.post("/notes", json={"title": "a note", "body": "text"})
        if created.status_code == 201:
            note = created.json()["id"]
            self.client.get(f"/notes/{note}", name="/notes/[id]")

    @task(1)
    def list_recent(self) -> None:
        self.client.get("/notes", params={"limit": random.randint(1, 20)})
