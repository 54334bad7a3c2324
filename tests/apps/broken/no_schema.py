"""Bad input: the app serves no OpenAPI schema to derive a load from."""

from fastapi import FastAPI

app = FastAPI(openapi_url=None)


@app.get("/ping")
async def ping() -> str:
    return "pong"
