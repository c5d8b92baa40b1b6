"""A FastAPI app with tokenward embedded: sign-up/sign-in/refresh under /auth, a public route and
a protected route. Run it (from the repository, after `make run` or `make test` set up .venv):

    .venv/bin/python examples/fastapi_app.py

It serves http://127.0.0.1:8000 with the SQLite file ./example.db; every TOKENWARD_* setting
applies (for example TOKENWARD_ACCESS_TOKEN_VALIDITY=60 for one-minute access tokens).
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import Depends, FastAPI

from tokenward import Auth, Session, load_settings
from tokenward.integrations.fastapi import verify_session

PORT = int(os.environ.get("PORT", "8000"))

settings = load_settings(
    overrides={
        "database_url": os.environ.get("TOKENWARD_DATABASE_URL", "sqlite:///./example.db"),
        "api_domain": os.environ.get("TOKENWARD_API_DOMAIN", f"http://localhost:{PORT}"),
    }
)
auth = Auth(settings)
app = FastAPI(lifespan=lambda app: auth.lifespan())
auth.install(app)


@app.get("/api/public")
async def public() -> dict[str, str]:
    return {"message": "anyone can read this"}


@app.get("/api/me")
async def me(session: Session = Depends(verify_session())) -> dict[str, str]:
    return {"userId": session.user_id, "sessionHandle": session.session_handle}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT)
