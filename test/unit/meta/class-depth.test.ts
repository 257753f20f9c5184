/**
 * docs/ARCHITECTURE.md: no class hierarchy in src/ (nor ports/) deeper than one level: a class may
 * extend one base class, and that base extends nothing (a built-in base such as Error counts as a
 * level). Checked with the TypeScript checker, which follows a base class through imports and
 * re-exports. The fixture (test/fixtures/lint/deep-class.ts) shows the check firing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** The classes of the program's files under `dirs` (repository-relative) that are more than one level deep. */
function tooDeep(program: ts.Program, dirs: string[]): string[] {
  const checker = program.getTypeChecker();
  const base = (c: ts.ClassLikeDeclaration): ts.ClassLikeDeclaration | 'other' | null => {
    const ext = c.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
    if (!ext) return null;
    let sym = checker.getSymbolAtLocation(ext.expression);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    return sym?.declarations?.find((d): d is ts.ClassLikeDeclaration => ts.isClassLike(d)) ?? 'other';
  };
  const depth = (c: ts.ClassLikeDeclaration, seen = 0): number => {
    const b = base(c);
    if (b === null) return 0;
    if (b === 'other' || seen > 20) return 1;
    return 1 + depth(b, seen + 1);
  };
  const found: string[] = [];
  for (const sf of program.getSourceFiles()) {
    const rel = path.relative(ROOT, sf.fileName);
    if (!dirs.some((d) => rel.startsWith(d + '/') || rel === d)) continue;
    const visit = (n: ts.Node): void => {
      if (ts.isClassLike(n) && depth(n) > 1) {
        const line = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
        found.push(`${rel}:${line} ${n.name?.text ?? '(anonymous class)'}`);
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
  return found;
}

test('the check fires: two levels (a class of ours, or a built-in base below it) are reported, one level is not', () => {
  const fixture = path.join(ROOT, 'test/fixtures/lint/deep-class.ts');
  const program = ts.createProgram([fixture], { target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], noEmit: true });
  assert.equal(tooDeep(program, ['test/fixtures/lint']), [
    'test/fixtures/lint/deep-class.ts:9 Leaf',
    'test/fixtures/lint/deep-class.ts:14 Failure',
  ]);
});

test('src/ and ports/: every class extends at most one level', () => {
  const cfg = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const files = cfg.fileNames.filter((f) => /^(src|ports)\//.test(path.relative(ROOT, f)));
  assert.ok(files.length > 150, `${files.length} files`);
  const program = ts.createProgram(files, { ...cfg.options, noEmit: true });
  assert.equal(tooDeep(program, ['src', 'ports']), []);
});

test.run();
