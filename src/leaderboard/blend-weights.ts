/** BLEND_WEIGHTS: `incentive:0.6,quality:0.3,health:0.1`, normalized so the weights sum to 1. */

export const BLEND_COMPONENTS = ['incentive', 'quality', 'health'] as const;
export type BlendComponent = (typeof BLEND_COMPONENTS)[number];
export type BlendWeights = Readonly<Record<BlendComponent, number>>;

export function parseBlendWeights(text: string): BlendWeights {
  const weights: Record<BlendComponent, number> = { incentive: 0, quality: 0, health: 0 };
  const seen = new Set<string>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name = '', value = ''] = part.split(':').map((s) => s.trim());
    if (!(BLEND_COMPONENTS as readonly string[]).includes(name)) {
      throw new Error(`unknown component "${name}" (known: ${BLEND_COMPONENTS.join(', ')}), e.g. incentive:0.6,quality:0.3,health:0.1`);
    }
    if (seen.has(name)) throw new Error(`${name} is listed twice`);
    seen.add(name);
    const weight = Number(value);
    if (value === '' || !Number.isFinite(weight) || weight < 0) throw new Error(`${name} needs a non-negative number, got "${value}"`);
    weights[name as BlendComponent] = weight;
  }
  const total = weights.incentive + weights.quality + weights.health;
  if (!(total > 0)) throw new Error('at least one weight must be above zero');
  // Rounded so weights that already sum to 1 read back as written (0.3, not 0.30000000000000004).
  const normalized = (w: number) => Math.round((w / total) * 1e9) / 1e9;
  return Object.freeze({ incentive: normalized(weights.incentive), quality: normalized(weights.quality), health: normalized(weights.health) });
}
