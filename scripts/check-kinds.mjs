// One table of kinds (src/kube/kinds.ts): no other list of kind names in src/. A list is an array or a
// set of two or more string literals that name kinds of the table; a comparison with one kind is not.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const table = path.join(root, 'src/kube/kinds.ts');
const names = new Set(
  [...readFileSync(table, 'utf8').matchAll(/row\('[^']+', '([A-Za-z]+)'/g)].map((m) => m[1]),
);
if (names.size < 20)
  throw new Error(
    `${table}: read only ${names.size} kinds from its rows; is row(...) still how it lists them?`,
  );

function filesUnder(dir) {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const found = [];
for (const file of filesUnder(path.join(root, 'src'))) {
  if (file === table) continue;
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isArrayLiteralExpression(node)) {
      const kinds = node.elements
        .filter((e) => ts.isStringLiteral(e) && names.has(e.text))
        .map((e) => e.text);
      if (kinds.length >= 2) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        found.push(
          `${path.relative(root, file)}:${line}: a list of kinds (${kinds.join(', ')}): derive it from src/kube/kinds.ts`,
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const line of found) console.error(line);
if (found.length > 0) process.exit(1);
console.log(`src/: no list of kind names outside src/kube/kinds.ts (${names.size} kinds in its table)`);
