/**
 * A resolver for eslint-plugin-import (resolver interface v2) that places a relative import by its
 * path: './hci.js' (written the NodeNext way) is './hci.ts' when that file exists, else the
 * file that exists under the other candidate names, else still './hci.ts'. The layering zones in
 * eslint.config.js decide by directory and file name, so every relative import is placed, whether
 * or not the file exists yet (a missing file is tsc's error, not the linter's): no import escapes the
 * zones because it could not be resolved. Bare specifiers (packages, node: builtins) resolve to
 * `path: null` ("found, not a file"): no zone applies to them.
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
  const candidates = TS_FOR_JS[ext]
    ? TS_FOR_JS[ext].map((e) => target.slice(0, -ext.length) + e)
    : [target, target + '.ts', path.join(target, 'index.ts')];
  return { found: true, path: candidates.find(isFile) ?? candidates[0] };
};
