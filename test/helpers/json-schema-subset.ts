/**
 * A small JSON Schema (draft 2020-12) checker for exactly the keywords berth.schema.json uses, so
 * a test can hold the schema and berth's own config validator to the same answers without a
 * dependency. A keyword it does not know throws: the schema cannot start relying on one that is
 * silently ignored here. Test-only.
 */

export type Schema = boolean | { readonly [keyword: string]: unknown };

/** Keywords that only annotate. */
const ANNOTATIONS = new Set([
  "$schema",
  "$id",
  "title",
  "description",
  "$defs",
  "default",
  "examples",
]);

const CHECKED = new Set([
  "type",
  "enum",
  "const",
  "minimum",
  "maximum",
  "minLength",
  "pattern",
  "items",
  "uniqueItems",
  "properties",
  "additionalProperties",
  "propertyNames",
  "required",
  "$ref",
  "oneOf",
  "anyOf",
  "allOf",
  "not",
]);

/** The first reason `value` fails `schema` (with the JSON path), or null when it is valid. */
export function checkAgainstSchema(root: Schema, value: unknown): string | null {
  return check(root, root, value, "$");
}

function check(root: Schema, schema: Schema, value: unknown, path: string): string | null {
  if (schema === true) return null;
  if (schema === false) return `${path}: no value allowed`;
  for (const keyword of Object.keys(schema)) {
    if (!ANNOTATIONS.has(keyword) && !CHECKED.has(keyword)) {
      throw new Error(`json-schema-subset: keyword "${keyword}" at ${path} is not supported`);
    }
  }
  const s = schema as Record<string, unknown>;
  if (s.$ref !== undefined) {
    const failure = check(root, resolveRef(root, s.$ref as string), value, path);
    if (failure !== null) return failure;
  }
  if (s.type !== undefined && !hasType(value, s.type as string)) {
    return `${path}: not of type ${String(s.type)}`;
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((v) => deepEqual(v, value))) {
    return `${path}: not in enum`;
  }
  if (s.const !== undefined && !deepEqual(s.const, value)) return `${path}: not the const`;
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) return `${path}: below minimum`;
    if (typeof s.maximum === "number" && value > s.maximum) return `${path}: above maximum`;
  }
  if (typeof value === "string") {
    if (typeof s.minLength === "number" && [...value].length < s.minLength) {
      return `${path}: shorter than minLength`;
    }
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value)) {
      return `${path}: does not match ${s.pattern}`;
    }
  }
  if (Array.isArray(value)) {
    if (s.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        const failure = check(root, s.items as Schema, value[i], `${path}[${i}]`);
        if (failure !== null) return failure;
      }
    }
    if (s.uniqueItems === true) {
      for (let i = 0; i < value.length; i++) {
        for (let j = 0; j < i; j++) {
          if (deepEqual(value[i], value[j])) return `${path}: items ${j} and ${i} are equal`;
        }
      }
    }
  }
  if (isObject(value)) {
    const failure = checkObject(root, s, value, path);
    if (failure !== null) return failure;
  }
  for (const [keyword, combine] of [
    ["allOf", "all"],
    ["anyOf", "any"],
    ["oneOf", "one"],
  ] as const) {
    const list = s[keyword] as Schema[] | undefined;
    if (list === undefined) continue;
    const passed = list.filter((sub) => check(root, sub, value, path) === null).length;
    const ok =
      combine === "all" ? passed === list.length : combine === "any" ? passed > 0 : passed === 1;
    if (!ok) return `${path}: ${keyword} fails (${passed} of ${list.length} match)`;
  }
  if (s.not !== undefined && check(root, s.not as Schema, value, path) === null) {
    return `${path}: matches "not"`;
  }
  return null;
}

function checkObject(
  root: Schema,
  s: Record<string, unknown>,
  value: Record<string, unknown>,
  path: string,
): string | null {
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  for (const name of (s.required ?? []) as string[]) {
    if (!Object.hasOwn(value, name)) return `${path}: "${name}" is required`;
  }
  for (const [name, item] of Object.entries(value)) {
    const itemPath = `${path}.${name}`;
    if (s.propertyNames !== undefined) {
      const failure = check(root, s.propertyNames as Schema, name, `${itemPath} (name)`);
      if (failure !== null) return failure;
    }
    const own = Object.hasOwn(properties, name) ? properties[name] : undefined;
    const schema = own ?? (s.additionalProperties as Schema | undefined) ?? true;
    const failure = check(root, schema, item, itemPath);
    if (failure !== null) return failure;
  }
  return null;
}

function resolveRef(root: Schema, ref: string): Schema {
  if (!ref.startsWith("#/")) throw new Error(`json-schema-subset: only local $ref, got ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split("/")) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`json-schema-subset: $ref ${ref} does not resolve`);
  return node as Schema;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    default:
      throw new Error(`json-schema-subset: type ${type} is not supported`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
