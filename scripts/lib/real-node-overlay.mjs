#!/usr/bin/env node
// Copies a manifests folder and points its workloads at the local target's real node (scripts/local-stack):
// every pod template gets the node's nodeSelector and the toleration for its taint, and with --pull-secret
// the imagePullSecret the kubelet pulls with (as an AKS cluster pulls from ACR). The source folder is not
// changed, comments and everything else are kept: the action applies the copy through its `manifests` input.
//
//   node scripts/lib/real-node-overlay.mjs SRC DEST [--pull-secret NAME] [--label KEY]
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const usage = 'usage: real-node-overlay.mjs SRC DEST [--pull-secret NAME] [--label KEY]';
const args = process.argv.slice(2);
const positional = [];
let pullSecret = '';
let label = process.env.REAL_NODE_LABEL || 'archetype.local/real-node';
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--pull-secret') pullSecret = args[++i] ?? '';
  else if (arg === '--label') label = args[++i] ?? '';
  else positional.push(arg);
}
const [src, dest] = positional;
if (!src || !dest || positional.length !== 2 || !label) {
  console.error(usage);
  process.exit(2);
}

// Where a kind keeps its pod template.
const templatePaths = {
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Pod: ['spec'],
};

/** Adds item to the sequence at path unless an equal item is there. */
function addTo(doc, path, item, same) {
  const list = doc.getIn(path)?.toJSON?.() ?? [];
  if (!list.some(same)) doc.setIn(path, [...list, item]);
}

mkdirSync(dest, { recursive: true });
cpSync(src, dest, { recursive: true });
let changed = 0;
for (const file of readdirSync(src).filter((f) => /\.ya?ml$/.test(f))) {
  const text = readFileSync(join(src, file), 'utf8');
  const docs = parseAllDocuments(text);
  let touched = false;
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      console.error(`${join(src, file)}: ${doc.errors[0].message}`);
      process.exit(1);
    }
    const path = templatePaths[doc.get('kind')];
    if (!path) continue;
    doc.setIn([...path, 'nodeSelector', label], 'true');
    const toleration = { key: label, operator: 'Equal', value: 'true', effect: 'NoSchedule' };
    addTo(doc, [...path, 'tolerations'], toleration, (t) => t.key === label && t.effect === 'NoSchedule');
    if (pullSecret)
      addTo(doc, [...path, 'imagePullSecrets'], { name: pullSecret }, (s) => s.name === pullSecret);
    touched = true;
    changed++;
  }
  if (touched) writeFileSync(join(dest, file), docs.map((d) => d.toString()).join(''));
}
if (changed === 0) {
  console.error(`${src}: no workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod) to put on the real node`);
  process.exit(1);
}
