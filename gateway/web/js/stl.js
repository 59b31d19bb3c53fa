// A small STL viewer on a 2-D canvas: flat-shaded triangles, turned by dragging or with the
// arrow keys. Binary and ASCII STL. Large scans are thinned while drawing.
import { h } from "./ui.js";

const MAX_DRAWN = 120_000;

export function parse(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength >= 84) {
    const count = view.getUint32(80, true);
    if (84 + count * 50 === buffer.byteLength) {
      const out = new Float32Array(count * 9);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < 9; j++) out[i * 9 + j] = view.getFloat32(84 + i * 50 + 12 + j * 4, true);
      }
      return out;
    }
  }
  const text = new TextDecoder().decode(buffer);
  const numbers = [];
  for (const match of text.matchAll(/vertex\s+(\S+)\s+(\S+)\s+(\S+)/g)) numbers.push(+match[1], +match[2], +match[3]);
  return Float32Array.from(numbers.slice(0, numbers.length - (numbers.length % 9)));
}

/** A canvas showing the model in `triangles` (9 numbers per triangle). */
export function viewer(triangles, label) {
  const canvas = h("canvas", { width: "560", height: "420", class: "stl-view", tabindex: "0", role: "img", "aria-label": `${label}. Drag, or use the arrow keys, to turn it.` });
  const count = triangles.length / 9;
  const step = Math.max(1, Math.ceil(count / MAX_DRAWN));
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < triangles.length; i += 3) {
    for (let k = 0; k < 3; k++) {
      min[k] = Math.min(min[k], triangles[i + k]);
      max[k] = Math.max(max[k], triangles[i + k]);
    }
  }
  const centre = [0, 1, 2].map((k) => (min[k] + max[k]) / 2);
  // The bounding sphere's diameter: the model fits whichever way it is turned.
  let radius = 0;
  for (let i = 0; i < triangles.length; i += 3) {
    radius = Math.max(radius, Math.hypot(triangles[i] - centre[0], triangles[i + 1] - centre[1], triangles[i + 2] - centre[2]));
  }
  const size = 2 * radius || 1;
  let yaw = 0.6;
  let pitch = -0.5;

  const draw = () => {
    const ctx = canvas.getContext("2d");
    const { width, height } = canvas;
    ctx.fillStyle = "#f4f7f9";
    ctx.fillRect(0, 0, width, height);
    const scale = (Math.min(width, height) * 0.9) / size;
    const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
    const project = (i) => {
      const x = triangles[i] - centre[0];
      const y = triangles[i + 1] - centre[1];
      const z = triangles[i + 2] - centre[2];
      const x1 = cy * x + sy * z;
      const z1 = -sy * x + cy * z;
      const y2 = cp * y - sp * z1;
      const z2 = sp * y + cp * z1;
      return [width / 2 + x1 * scale, height / 2 - y2 * scale, z2];
    };
    const faces = [];
    for (let t = 0; t < count; t += step) {
      const a = project(t * 9);
      const b = project(t * 9 + 3);
      const c = project(t * 9 + 6);
      // The normal's z in screen space gives the light (a lamp behind the viewer).
      const nz = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
      const ux = b[0] - a[0], uy = b[1] - a[1], vx = c[0] - a[0], vy = c[1] - a[1];
      const area = Math.hypot(ux, uy) * Math.hypot(vx, vy) || 1;
      faces.push([a, b, c, (a[2] + b[2] + c[2]) / 3, Math.abs(nz) / area]);
    }
    faces.sort((f, g) => f[3] - g[3]);
    for (const [a, b, c, , light] of faces) {
      const shade = Math.round(90 + 150 * Math.min(1, light));
      ctx.fillStyle = `rgb(${shade - 40}, ${shade - 10}, ${shade})`;
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
      ctx.lineTo(c[0], c[1]);
      ctx.closePath();
      ctx.fill();
    }
  };

  let dragging = null;
  canvas.addEventListener("pointerdown", (e) => {
    dragging = [e.clientX, e.clientY];
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!dragging) return;
    yaw += (e.clientX - dragging[0]) * 0.01;
    pitch += (e.clientY - dragging[1]) * 0.01;
    dragging = [e.clientX, e.clientY];
    draw();
  });
  canvas.addEventListener("pointerup", () => (dragging = null));
  canvas.addEventListener("keydown", (e) => {
    const turns = { ArrowLeft: [-0.15, 0], ArrowRight: [0.15, 0], ArrowUp: [0, -0.15], ArrowDown: [0, 0.15] };
    if (!turns[e.key]) return;
    e.preventDefault();
    yaw += turns[e.key][0];
    pitch += turns[e.key][1];
    draw();
  });
  draw();
  return h("figure", {}, canvas, h("figcaption", { class: "muted" }, `3-D view (${count.toLocaleString()} triangles${step > 1 ? ", thinned for drawing" : ""}). Drag or use the arrow keys to turn it.`));
}
