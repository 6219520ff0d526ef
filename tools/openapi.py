"""Write the API's OpenAPI document to docs/openapi.json (tests/test_api.py compares)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402

app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                  "PIFA_ENV": "development"})
document = app.test_client().get("/api/v1/openapi.json").get_json()
target = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"
target.write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
print(f"wrote {target}")
