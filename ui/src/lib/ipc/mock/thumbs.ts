// Thumbnails for the mock drive: small SVG landscapes, different per handle, as data URLs.

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}


export function mockThumbnail(handle: string): string {
  const h = hash(handle);
  const hue = h % 360;
  const sky2 = (hue + 40) % 360;
  const sunX = 20 + (h % 60);
  const sunY = 14 + ((h >> 8) % 14);
  const m1 = 30 + ((h >> 4) % 20);
  const m2 = 38 + ((h >> 12) % 20);
  const night = (h >> 20) % 5 === 0;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">` +
    `<defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1">` +
    `<stop offset="0" stop-color="hsl(${hue},${night ? 40 : 70}%,${night ? 18 : 62}%)"/>` +
    `<stop offset="1" stop-color="hsl(${sky2},${night ? 50 : 80}%,${night ? 30 : 84}%)"/>` +
    `</linearGradient></defs>` +
    `<rect width="96" height="96" fill="url(#s)"/>` +
    `<circle cx="${sunX}" cy="${sunY}" r="7" fill="hsl(${(hue + 180) % 360},90%,${night ? 88 : 92}%)" opacity=".9"/>` +
    `<path d="M0 ${m1 + 30} L22 ${m1} L40 ${m1 + 18} L60 ${m2 - 6} L96 ${m2 + 22} V96 H0Z" fill="hsl(${(hue + 200) % 360},25%,${night ? 14 : 34}%)"/>` +
    `<path d="M0 78 Q24 66 48 74 T96 70 V96 H0Z" fill="hsl(${(hue + 150) % 360},45%,${night ? 10 : 26}%)"/>` +
    `</svg>`;
  return `data:image/svg+xml;base64,${btoa(svg)}`;
}
