/**
 * A top-down orthographic camera over the road, in simulator pixels (x right, y down on screen
 * as in the data). Follow mode centres the focused car horizontally and fits the road's height;
 * free mode keeps a centre and zoom the user pans and zooms. `worldToScreen` maps a road point to
 * canvas CSS pixels (tests use it to find a car on a screenshot).
 */
import { OrthographicCamera } from 'three';

export type CameraMode = 'follow' | 'free';

export class ViewCamera {
  readonly camera = new OrthographicCamera(-1, 1, 1, -1, 0.1, 1000);
  mode: CameraMode = 'follow';
  /** View centre in road px and zoom in CSS px per road px. */
  centerXPx = 0;
  centerYPx = 0;
  zoom = 1;
  private widthCss = 1;
  private heightCss = 1;

  constructor(
    private readonly roadWidthPx: number,
    private readonly roadHeightPx: number,
  ) {
    this.camera.position.set(0, 0, 100);
    this.camera.lookAt(0, 0, 0);
    this.fitAll();
  }

  resize(widthCss: number, heightCss: number): void {
    this.widthCss = Math.max(1, widthCss);
    this.heightCss = Math.max(1, heightCss);
    if (this.mode === 'free' && this.zoom === 1) this.fitAll();
    this.apply();
  }

  /** Whole road in view (free mode's starting point). */
  fitAll(): void {
    this.centerXPx = this.roadWidthPx / 2;
    this.centerYPx = this.roadHeightPx / 2;
    this.zoom = Math.min(this.widthCss / (this.roadWidthPx * 1.02), this.heightCss / (this.roadHeightPx * 1.1));
    this.apply();
  }

  /** Follow mode: the car at (xPx, ~) is centred, the road height fills the view. */
  follow(xPx: number): void {
    if (this.mode !== 'follow') return;
    this.zoom = this.heightCss / (this.roadHeightPx * 1.15);
    this.centerXPx = xPx;
    this.centerYPx = this.roadHeightPx / 2;
    this.apply();
  }

  setMode(mode: CameraMode): void {
    this.mode = mode;
    if (mode === 'free') this.fitAll();
  }

  /** Free mode: pan by a drag of (dxCss, dyCss). */
  pan(dxCss: number, dyCss: number): void {
    this.mode = 'free';
    this.centerXPx -= dxCss / this.zoom;
    this.centerYPx -= dyCss / this.zoom;
    this.apply();
  }

  /** Free mode: zoom by `factor` keeping the road point under (xCss, yCss) in place. */
  zoomAt(factor: number, xCss: number, yCss: number): void {
    this.mode = 'free';
    const before = this.screenToWorld(xCss, yCss);
    this.zoom = Math.min(40, Math.max(0.05, this.zoom * factor));
    this.centerXPx = before.xPx - (xCss - this.widthCss / 2) / this.zoom;
    this.centerYPx = before.yPx - (yCss - this.heightCss / 2) / this.zoom;
    this.apply();
  }

  worldToScreen(xPx: number, yPx: number): { x: number; y: number } {
    return { x: (xPx - this.centerXPx) * this.zoom + this.widthCss / 2, y: (yPx - this.centerYPx) * this.zoom + this.heightCss / 2 };
  }

  screenToWorld(xCss: number, yCss: number): { xPx: number; yPx: number } {
    return { xPx: (xCss - this.widthCss / 2) / this.zoom + this.centerXPx, yPx: (yCss - this.heightCss / 2) / this.zoom + this.centerYPx };
  }

  /** Road y points down; three's y points up: the scene is built at (x, -y). */
  private apply(): void {
    const halfW = this.widthCss / (2 * this.zoom);
    const halfH = this.heightCss / (2 * this.zoom);
    const c = this.camera;
    c.left = -halfW;
    c.right = halfW;
    c.top = halfH;
    c.bottom = -halfH;
    c.position.set(this.centerXPx, -this.centerYPx, 100);
    c.updateProjectionMatrix();
  }
}
