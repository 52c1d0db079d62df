import type { z } from 'zod';

/* Walks a zod schema along a YAML path to list the keys allowed there (for "unknown key" messages). */
type Def = { type: string; innerType?: Def & Schemaish; shape?: Record<string, Schemaish>; options?: Schemaish[]; element?: Schemaish; valueType?: Schemaish; in?: Schemaish; out?: Schemaish; schema?: Schemaish; discriminator?: string; getter?: () => Schemaish };
type Schemaish = { _zod: { def: Def } };

function unwrap(s: Schemaish): Schemaish {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const def = cur._zod.def;
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault' || def.type === 'readonly' || def.type === 'catch') && def.innerType) cur = def.innerType;
    else if (def.type === 'pipe' && def.in) cur = def.in;
    else if (def.type === 'lazy' && def.getter) cur = def.getter();
    else break;
  }
  return cur;
}

function candidates(s: Schemaish, value: unknown): Schemaish[] {
  const u = unwrap(s);
  if (u._zod.def.type === 'union') return (u._zod.def.options ?? []).flatMap((o) => candidates(o, value));
  return [u];
}

export function allowedKeysAt(schema: z.ZodType, root: unknown, path: ReadonlyArray<PropertyKey>): string[] {
  let nodes: Schemaish[] = candidates(schema as unknown as Schemaish, root);
  let value: unknown = root;
  for (const key of path) {
    const next: Schemaish[] = [];
    const child = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
    for (const n of nodes) {
      const def = n._zod.def;
      if (def.type === 'object' && def.shape && typeof key === 'string' && def.shape[key]) next.push(...candidates(def.shape[key]!, child));
      else if (def.type === 'array' && def.element && typeof key === 'number') next.push(...candidates(def.element, child));
      else if (def.type === 'record' && def.valueType) next.push(...candidates(def.valueType, child));
    }
    nodes = next;
    value = child;
  }
  const objects = nodes.filter((n) => n._zod.def.type === 'object' && n._zod.def.shape);
  if (value && typeof value === 'object') {
    // Several object shapes (a discriminated union): keep those whose discriminator matches the value.
    const matching = objects.filter((o) => {
      const shape = o._zod.def.shape!;
      return ['from', 'to'].every((d) => !shape[d] || (shape[d] as unknown as { _zod: { def: { values?: unknown[] } } })._zod.def.values?.includes((value as Record<string, unknown>)[d]) !== false);
    });
    if (matching.length > 0) return [...new Set(matching.flatMap((o) => Object.keys(o._zod.def.shape!)))];
  }
  return [...new Set(objects.flatMap((o) => Object.keys(o._zod.def.shape!)))];
}
