"""Development server: `python run.py` (the Makefile's `make run` prepares the database first)."""

import os

os.environ.setdefault("PIFA_ENV", "development")

from app import create_app  # noqa: E402

app = create_app()

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
