const mods = process.argv.slice(2);
const snap = () => { gc(); gc(); const m = process.memoryUsage(); return m; };
let prev = snap();
const fmt = (b) => (b / 1048576).toFixed(1).padStart(6);
console.log(`base rss ${fmt(prev.rss)} heap ${fmt(prev.heapUsed)}`);
for (const m of mods) {
  await import(m);
  const cur = snap();
  console.log(`${m.padEnd(50)} +rss ${fmt(cur.rss - prev.rss)} +heap ${fmt(cur.heapUsed - prev.heapUsed)}   rss ${fmt(cur.rss)}`);
  prev = cur;
}
