// React is imported by name because Vite runs without the React plugin here,
// so JSX compiles to React.createElement calls.
import React from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.jsx";

createRoot(document.getElementById("root")).render(<App />);
