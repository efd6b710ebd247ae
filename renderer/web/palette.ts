/**
 * Colours of the viewer. Real (replayed) cars are yellow and bot-driven cars blue, as in the
 * paper's figures; nothing else on screen is close to either hue, so tests and people can pick
 * the cars out by colour alone. `isYellow` / `isBlue` are the tests' pixel classifiers.
 */
export const PALETTE = {
  verge: 0x24472c, // grass around the road, drawn as geometry
  road: 0x3b3d40, // the scene's background (see scene/road-layer.ts)
  marking: 0xe8e8e8,
  zoneLine: 0x8a8f96,
  realCar: 0xffd21f, // yellow
  botCar: 0x1f6bff, // blue
  windshield: 0x1b1b1b,
  ghost: 0xffffff,
} as const;

export function rgbOf(hex: number): [number, number, number] {
  return [(hex >> 16) & 255, (hex >> 8) & 255, hex & 255];
}

export function isYellow(r: number, g: number, b: number): boolean {
  return r > 200 && g > 160 && b < 90 && r - b > 130;
}

export function isBlue(r: number, g: number, b: number): boolean {
  return b > 190 && r < 90 && g < 150 && b - r > 120;
}
