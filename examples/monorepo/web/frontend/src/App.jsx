import React, { useEffect, useState } from "react";

export function App() {
  const [items, setItems] = useState({});
  const [error, setError] = useState(null);

  useEffect(() => {
    fetch("/api/items")
      .then((res) => (res.ok ? res.json() : Promise.reject(res.statusText)))
      .then(setItems)
      .catch((err) => setError(String(err)));
  }, []);

  if (error) {
    return <p role="alert">Could not load the inventory: {error}</p>;
  }
  const rows = Object.entries(items);
  return (
    <main>
      <h1>Inventory</h1>
      {rows.length === 0 ? (
        <p>No items yet.</p>
      ) : (
        <ul>
          {rows.map(([id, item]) => (
            <li key={id}>
              {item.name}: {item.quantity}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
