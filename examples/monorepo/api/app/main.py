"""Inventory API for the example monorepo.

Keeps items in memory so the service runs with no database; the psycopg
dependency is there because the real deployment talks to PostgreSQL.
"""

import os

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="inventory-api", version=os.environ.get("APP_VERSION", "dev"))


class Item(BaseModel):
    name: str
    quantity: int = 0


_items: dict[int, Item] = {}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/items")
def list_items() -> dict[int, Item]:
    return _items


@app.get("/items/{item_id}")
def get_item(item_id: int) -> Item:
    if item_id not in _items:
        raise HTTPException(status_code=404, detail="no such item")
    return _items[item_id]


@app.post("/items", status_code=201)
def create_item(item: Item) -> dict[str, int]:
    item_id = max(_items, default=0) + 1
    _items[item_id] = item
    return {"id": item_id}
