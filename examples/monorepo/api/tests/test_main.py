from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_create_then_get():
    created = client.post("/items", json={"name": "bolt", "quantity": 3})
    assert created.status_code == 201
    item_id = created.json()["id"]
    assert client.get(f"/items/{item_id}").json() == {"name": "bolt", "quantity": 3}


def test_missing_item():
    assert client.get("/items/9999").status_code == 404
