/**
 * Cars as instanced rectangles of their true length and width, rotated to their heading: one
 * draw call for the bodies (yellow real cars, blue bot cars, per-instance colour) and one for the
 * dark windshields that show which way each car points. The same class, translucent white and
 * without windshields, draws the bot's logged trajectory (the ghost).
 *
 * Edges are smoothed in the fragment shader rather than by multisampling (which halves a software
 * rasteriser's frame rate): each quad is drawn one screen pixel larger on every side and a
 * fragment's coverage is its distance to the rectangle's edge in screen pixels (from the
 * derivatives of its position in the car's frame), so rotated cars have no stair-steps.
 */
import { Color, DynamicDrawUsage, InstancedMesh, Matrix4, PlaneGeometry, Quaternion, ShaderMaterial, Vector3 } from 'three';
import type { Group } from 'three';
import type { CarColumns } from '../../protocol/types.js';
import { CAR_CONTROLLED } from '../../protocol/types.js';
import { PALETTE } from '../palette.js';

export interface CarLayerOptions {
  z: number;
  ghost?: boolean;
}

const VERTEX = /* glsl */ `
uniform float uPixel; // road px per screen px
uniform vec3 uColor;
varying vec2 vLocal; // position in the car's frame, road px from its centre
varying vec2 vHalf; // half length and half width, road px
varying vec3 vColor;
void main() {
  vec2 size = vec2(length(instanceMatrix[0].xyz), length(instanceMatrix[1].xyz));
  // Grow the unit quad by one screen pixel on each side (in the car's own units).
  vec2 grown = position.xy * (size + 2.0 * uPixel) / max(size, vec2(1e-6));
  vLocal = grown * size;
  vHalf = 0.5 * size;
#ifdef USE_INSTANCING_COLOR
  vColor = instanceColor;
#else
  vColor = uColor;
#endif
  gl_Position = projectionMatrix * modelViewMatrix * instanceMatrix * vec4(grown, position.z, 1.0);
}`;

const FRAGMENT = /* glsl */ `
uniform float uOpacity;
varying vec2 vLocal;
varying vec2 vHalf;
varying vec3 vColor;
void main() {
  vec2 inside = vHalf - abs(vLocal); // road px to the edges, positive inside
  vec2 perPixel = vec2(length(vec2(dFdx(vLocal.x), dFdy(vLocal.x))), length(vec2(dFdx(vLocal.y), dFdy(vLocal.y))));
  vec2 px = inside / max(perPixel, vec2(1e-6));
  float coverage = clamp(min(px.x, px.y) + 0.5, 0.0, 1.0);
  if (coverage <= 0.0) discard;
  gl_FragColor = vec4(vColor, uOpacity * coverage);
  #include <colorspace_fragment>
}`;

/** A material for instanced rectangles with smoothed edges (per-instance colour when the mesh has one). */
function carMaterial(color: number, opacity: number): ShaderMaterial {
  return new ShaderMaterial({
    uniforms: { uColor: { value: new Color(color) }, uOpacity: { value: opacity }, uPixel: { value: 1 } },
    vertexShader: VERTEX,
    fragmentShader: FRAGMENT,
    transparent: true,
    depthWrite: false,
  });
}

export class CarLayer {
  private bodies: InstancedMesh;
  private shields: InstancedMesh | null;
  private capacity = 0;
  private readonly m = new Matrix4();
  private readonly q = new Quaternion();
  private readonly p = new Vector3();
  private readonly s = new Vector3();
  private readonly axis = new Vector3(0, 0, 1);
  private readonly yellow = new Color(PALETTE.realCar);
  private readonly blue = new Color(PALETTE.botCar);

  constructor(
    private readonly parent: Group,
    private readonly opts: CarLayerOptions,
  ) {
    this.bodies = this.makeBodies(64);
    this.shields = opts.ghost ? null : this.makeShields(64);
    this.capacity = 64;
  }

  private makeBodies(n: number): InstancedMesh {
    const mat = this.opts.ghost ? carMaterial(PALETTE.ghost, 0.45) : carMaterial(0xffffff, 1);
    const mesh = new InstancedMesh(new PlaneGeometry(1, 1), mat, n);
    // Colours per instance from the start, so that the shader is compiled with them once.
    if (!this.opts.ghost) mesh.setColorAt(0, this.yellow);
    mesh.name = this.opts.ghost ? 'ghosts' : 'cars';
    mesh.instanceMatrix.setUsage(DynamicDrawUsage);
    mesh.frustumCulled = false;
    mesh.count = 0;
    this.parent.add(mesh);
    return mesh;
  }

  private makeShields(n: number): InstancedMesh {
    const mesh = new InstancedMesh(new PlaneGeometry(1, 1), carMaterial(PALETTE.windshield, 1), n);
    mesh.name = 'windshields';
    mesh.instanceMatrix.setUsage(DynamicDrawUsage);
    mesh.frustumCulled = false;
    mesh.count = 0;
    this.parent.add(mesh);
    return mesh;
  }

  private grow(n: number): void {
    if (n <= this.capacity) return;
    let cap = this.capacity;
    while (cap < n) cap *= 2;
    for (const mesh of [this.bodies, this.shields]) {
      if (!mesh) continue;
      this.parent.remove(mesh);
      mesh.geometry.dispose();
      (mesh.material as ShaderMaterial).dispose();
      mesh.dispose();
    }
    this.bodies = this.makeBodies(cap);
    this.shields = this.opts.ghost ? null : this.makeShields(cap);
    this.capacity = cap;
  }

  update(cars: CarColumns): void {
    const n = cars.id.length;
    this.grow(n);
    const z = this.opts.z;
    for (let i = 0; i < n; i++) {
      const dx = cars.dirX[i]!;
      const dy = cars.dirY[i]!;
      // Road y is down, scene y is up: the heading angle flips sign.
      this.q.setFromAxisAngle(this.axis, Math.atan2(-dy, dx));
      const len = cars.lengthPx[i]!;
      const wid = cars.widthPx[i]!;
      this.p.set(cars.xPx[i]!, -cars.yPx[i]!, z);
      this.s.set(len, wid, 1);
      this.m.compose(this.p, this.q, this.s);
      this.bodies.setMatrixAt(i, this.m);
      if (!this.opts.ghost) this.bodies.setColorAt(i, cars.flags[i]! & CAR_CONTROLLED ? this.blue : this.yellow);
      if (this.shields) {
        // A band across the front third of the car.
        this.p.set(cars.xPx[i]! + dx * len * 0.18, -(cars.yPx[i]! + dy * len * 0.18), z + 0.01);
        this.s.set(len * 0.16, wid * 0.8, 1);
        this.m.compose(this.p, this.q, this.s);
        this.shields.setMatrixAt(i, this.m);
      }
    }
    this.bodies.count = n;
    this.bodies.instanceMatrix.needsUpdate = true;
    if (this.bodies.instanceColor) this.bodies.instanceColor.needsUpdate = true;
    if (this.shields) {
      this.shields.count = n;
      this.shields.instanceMatrix.needsUpdate = true;
    }
  }

  /** Road px per screen px (the camera's 1 / zoom times the pixel ratio's inverse), for the edge smoothing. */
  setPixelSize(roadPxPerScreenPx: number): void {
    for (const mesh of [this.bodies, this.shields]) if (mesh) (mesh.material as ShaderMaterial).uniforms.uPixel!.value = roadPxPerScreenPx;
  }

  setVisible(v: boolean): void {
    this.bodies.visible = v;
    if (this.shields) this.shields.visible = v;
  }
}
