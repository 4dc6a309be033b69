// The rooms stay small (issue 23): no file in src/ over 450 lines, no function over 120, and
// src/jobs/deploy.ts, the flow a newcomer reads first, at most 300. Prints what is over and fails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const limits = { file: 450, fn: 120, 'src/jobs/deploy.ts': 300 };
const root = path.resolve(import.meta.dirname, '..');

function filesUnder(dir) {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const over = [];
for (const file of filesUnder(path.join(root, 'src'))) {
  const rel = path.relative(root, file);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  const max = limits[rel] ?? limits.file;
  if (lines > max) over.push(`${rel}: ${lines} lines (at most ${max})`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      if (end - start + 1 > limits.fn) {
        const name = node.name?.getText(source) ?? '(anonymous)';
        over.push(`${rel}:${start + 1}: function ${name} is ${end - start + 1} lines (at most ${limits.fn})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
for (const line of over) console.error(line);
if (over.length > 0) process.exit(1);
console.log(`src/: every file and function within its size (${limits.file} / ${limits.fn} lines)`);
