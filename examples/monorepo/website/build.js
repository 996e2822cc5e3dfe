// Renders every Markdown page in content/ into public/ with one shared layout.
const fs = require("fs");
const path = require("path");
const { marked } = require("marked");

const contentDir = path.join(__dirname, "content");
const outDir = path.join(__dirname, "public");
const layout = fs.readFileSync(path.join(__dirname, "layout.html"), "utf8");

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

for (const name of fs.readdirSync(contentDir)) {
  if (!name.endsWith(".md")) continue;
  const source = fs.readFileSync(path.join(contentDir, name), "utf8");
  const title = (source.match(/^# (.+)$/m) || [, "Inventory"])[1];
  const html = layout
    .replace("{{title}}", title)
    .replace("{{body}}", marked.parse(source));
  const target = name.replace(/\.md$/, ".html");
  fs.writeFileSync(path.join(outDir, target), html);
  console.log(`wrote public/${target}`);
}

fs.copyFileSync(path.join(__dirname, "style.css"), path.join(outDir, "style.css"));
