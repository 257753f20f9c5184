/**
 * A resolver for eslint-plugin-import (resolver interface v2): maps a relative import written the
 * NodeNext way ('./hci.js') to the TypeScript file it names ('./hci.ts'), so that
 * import/no-restricted-paths can see which layer an import lands in. Bare specifiers (packages,
 * node: builtins) resolve to `path: null` ("found, not a file": no zone applies to them); a relative
 * import that names no file is not found, which import/no-unresolved reports (eslint.config.js), so a
 * layering check is never skipped in silence.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const TS_FOR_JS = { '.js': ['.ts', '.tsx', '.js'], '.mjs': ['.mts', '.mjs'], '.cjs': ['.cts', '.cjs'], '.jsx': ['.tsx', '.jsx'] };

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

exports.interfaceVersion = 2;

exports.resolve = function resolve(source, file) {
  if (!source.startsWith('.') && !path.isAbsolute(source)) return { found: true, path: null };
  const target = path.resolve(path.dirname(file), source);
  const ext = path.extname(target);
  const candidates = [];
  if (TS_FOR_JS[ext]) for (const e of TS_FOR_JS[ext]) candidates.push(target.slice(0, -ext.length) + e);
  else candidates.push(target, target + '.ts', path.join(target, 'index.ts'));
  for (const c of candidates) if (isFile(c)) return { found: true, path: c };
  return { found: false };
};
