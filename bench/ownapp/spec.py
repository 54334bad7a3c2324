"""What the harness tells the wrapper process about the user's app (one model, both sides).

The harness serialises an `AppSpec` into `SESSIONBENCH_APP`; the wrapper
(`wrapper.py`, run by uvicorn in the child) reads it back.
"""

import os

from pydantic import BaseModel, ConfigDict

ENV_VAR = "SESSIONBENCH_APP"
INFO_PATH = "/_sessionbench/app"  # the wrapper's report: the app's engines and errors


class AppSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    import_string: str  # uvicorn's MODULE:ATTR
    app_dir: str | None = None  # put first on sys.path, as `uvicorn --app-dir`
    factory: bool = False  # ATTR is a callable returning the app, as `uvicorn --factory`
    application_name: str = "sessionbench-app"  # set on Postgres connections
    probes: bool = True

    def to_env(self) -> dict[str, str]:
        return {ENV_VAR: self.model_dump_json()}

    @classmethod
    def from_env(cls) -> "AppSpec":
        raw = os.environ.get(ENV_VAR)
        if not raw:
            raise RuntimeError(f"{ENV_VAR} is not set: the wrapper is started by sessionbench")
        return cls.model_validate_json(raw)
