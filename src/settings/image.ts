import type { Inputs } from './inputs.js';

export const cacheModes = ['auto', 'gha', 'registry', 'none'] as const;
export type CacheMode = (typeof cacheModes)[number];

export interface ImageSettings {
  name: string;
  /** repository of preview images (input preview-image-name, default <name>-preview) */
  previewName: string;
  context: string;
  dockerfile: string;
  platforms: string[];
  buildArgs: Record<string, string>;
  secretFiles: Record<string, string>;
  cache: CacheMode;
  rebuild: boolean;
}

const repository = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const platform = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const buildArgKey = /^[A-Za-z_][A-Za-z0-9_]*$/;
const secretId = /^[A-Za-z0-9_.-]+$/;

/** What is built and where it is pushed; `rebuild` is read with the switches, last (getSettings). */
export function readImage(inputs: Inputs, appName: string): Omit<ImageSettings, 'rebuild'> {
  const name = inputs.text('image-name') || appName;
  if (!repository.test(name))
    inputs.fail(
      'image-name',
      `'${name}' is not a valid repository name (lowercase, digits, separators . _ - /)`,
    );
  const previewName = inputs.text('preview-image-name') || `${name}-preview`;
  if (!repository.test(previewName) || previewName === name)
    inputs.fail(
      'preview-image-name',
      `'${previewName}' must be a valid repository name other than image-name '${name}': production never reads preview images`,
    );
  const context = inputs.text('context') || '.';
  const dockerfile = inputs.text('dockerfile') || `${context.replace(/\/+$/, '')}/Dockerfile`;
  const platforms = inputs.list('platforms', ',');
  if (platforms.length === 0) inputs.fail('platforms', 'is empty; use e.g. linux/amd64');
  for (const p of platforms)
    if (!platform.test(p)) inputs.fail('platforms', `'${p}' is not os/arch[/variant], e.g. linux/amd64`);
  return {
    name,
    previewName,
    context,
    dockerfile,
    platforms,
    buildArgs: inputs.keyValues('build-args', buildArgKey, 'KEY=VALUE'),
    secretFiles: inputs.keyValues('build-secret-files', secretId, 'id=path'),
    cache: inputs.oneOf('cache', cacheModes),
  };
}
