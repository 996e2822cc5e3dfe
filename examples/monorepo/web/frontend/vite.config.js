import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: "dist",
    sourcemap: true,
  },
  server: {
    proxy: { "/api": "http://localhost:8000" },
  },
});
