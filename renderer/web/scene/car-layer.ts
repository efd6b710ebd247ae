/**
 * Cars as instanced rectangles of their true length and width, rotated to their heading: one
 * draw call for the bodies (yellow real cars, blue bot cars, per-instance colour) and one for the
 * dark windshields that show which way each car points. The same class, translucent white and
 * without windshields, draws the bot's logged trajectory (the ghost).
 */
import { Color, DynamicDrawUsage, InstancedMesh, Matrix4, MeshBasicMaterial, PlaneGeometry, Quaternion, Vector3 } from 'three';
import type { Group } from 'three';
import type { CarColumns } from '../../protocol/types.js';
import { CAR_CONTROLLED } from '../../protocol/types.js';
import { PALETTE } from '../palette.js';

export interface CarLayerOptions {
  z: number;
  ghost?: boolean;
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
    const mat = this.opts.ghost
      ? new MeshBasicMaterial({ color: PALETTE.ghost, transparent: true, opacity: 0.45, depthWrite: false })
      : new MeshBasicMaterial({ color: 0xffffff });
    const mesh = new InstancedMesh(new PlaneGeometry(1, 1), mat, n);
    mesh.name = this.opts.ghost ? 'ghosts' : 'cars';
    mesh.instanceMatrix.setUsage(DynamicDrawUsage);
    mesh.frustumCulled = false;
    mesh.count = 0;
    this.parent.add(mesh);
    return mesh;
  }

  private makeShields(n: number): InstancedMesh {
    const mesh = new InstancedMesh(new PlaneGeometry(1, 1), new MeshBasicMaterial({ color: PALETTE.windshield }), n);
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
      (mesh.material as MeshBasicMaterial).dispose();
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

  setVisible(v: boolean): void {
    this.bodies.visible = v;
    if (this.shields) this.shields.visible = v;
  }
}
