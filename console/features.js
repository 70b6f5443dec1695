// What this API offers, read from its own OpenAPI document: a screen or control whose operation the API does
// not have is not shown (sign-in with a password, approvals and queue slots arrive with later releases).
let operations = new Set();
let documentCache = null;

const shape = (method, path) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, "{}")}`;

export async function loadFeatures(base = "") {
  const answer = await fetch(`${base}/openapi.json`);
  if (!answer.ok) throw new Error(`GET /openapi.json answered ${answer.status}`);
  documentCache = await answer.json();
  operations = new Set();
  for (const [path, item] of Object.entries(documentCache.paths || {})) {
    for (const method of Object.keys(item)) operations.add(shape(method, path));
  }
  return documentCache;
}

export function has(operation) { return operations.has(shape(operation.method, operation.path)); }

export function schema(name) { return (documentCache && documentCache.components?.schemas?.[name]) || null; }

// The values a schema's property may take (an enum, possibly inside anyOf), [] when it has none.
export function enumOf(schemaName, property) {
  const prop = schema(schemaName)?.properties?.[property];
  if (!prop) return [];
  const options = [prop, ...(prop.anyOf || [])];
  return options.flatMap((option) => option.enum || []);
}

export function hasProperty(schemaName, property) { return Boolean(schema(schemaName)?.properties?.[property]); }

// The request header that chooses the workspace, where the API declares one (people who belong to many).
export function workspaceHeader() {
  for (const item of Object.values(documentCache?.paths || {})) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation.parameters || []) {
        if (parameter.in === "header" && /workspace/i.test(parameter.name)) return parameter.name;
      }
    }
  }
  return documentCache ? "X-Herald-Workspace" : null; // the name README "People and sign-in" gives
}
