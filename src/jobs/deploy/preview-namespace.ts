import * as core from '@actions/core';
import type { Manifest } from '../../kube/manifests/load.js';
import { type PreviewAccess, preparePreviewNamespace } from '../../kube/preview/access.js';
import { previewGuards, previewNamespaceObject } from '../../kube/preview/guard.js';
import { instanceLabel, managedBy, managedByLabel, nameLabel } from '../../names.js';
import type { DeployRun } from './run.js';

// A preview deploys into a namespace of its own, made (or found) before anything else of it, with the
// guards that hold it there (kube/preview/guard.ts) and the preview identity bound in it (access.ts).

/** The preview's namespace, with its guards (first in the set) and the preview identity's binding. */
export async function openPreview(
  ctx: DeployRun,
  pr: number,
  rendered: Manifest[],
): Promise<{ objects: Manifest[]; access: PreviewAccess }> {
  const { settings, plan } = ctx;
  const base = {
    namespace: plan.namespace,
    pr,
    labels: {
      [managedByLabel]: managedBy,
      [nameLabel]: plan.render.appName,
      [instanceLabel]: plan.render.instance,
      ...plan.render.labels,
    },
    ingressNamespace: settings.ingressNamespace,
    ...(settings.gateway ? { gatewayNamespace: settings.gateway.namespace } : {}),
  };
  const guards = previewGuards(base);
  // the preview identity reads and writes only in namespaces it made and bound itself in: first of all
  const access = await ctx.timings.step('preview namespace', () =>
    preparePreviewNamespace(ctx.cluster, previewNamespaceObject({ ...base, appName: settings.appName }), {
      appName: settings.appName,
      fieldManager: managedBy,
      guards: guards.map((m) => m.object),
      maxPreviews: settings.maxPreviews,
      routes: rendered.some((m) => m.object.kind === 'HTTPRoute'),
    }),
  );
  if (access.boundAs)
    core.info(
      `${access.boundAs} bound to ClusterRole ${access.boundRoles?.join(' and ')} in ${plan.namespace}`,
    );
  return { objects: [...guards, ...rendered], access };
}
