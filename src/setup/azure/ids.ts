// Names and ids setup derives, the same on every run: the tag that marks what setup made, the identities'
// names, ARM resource ids, and role assignment names hashed from what they grant (so a re-run PUTs the same
// name, and never a second assignment).
import { createHash } from 'node:crypto';
import type { IdentityRole } from '../federation-plan.js';

/** The tag on each identity setup creates; its value is the repository (owner/name). */
export const setupTag = 'archetype-deploy-setup';

/** The identities' names for repository `repo` (its name without the owner). */
export function identityNames(repo: string): Record<IdentityRole, string> {
  const base = repo.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return { production: `id-${base}-production`, preview: `id-${base}-preview` };
}

export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

export function registryId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${resourceGroupId(subscriptionId, resourceGroup)}/providers/Microsoft.ContainerRegistry/registries/${name}`;
}

export function clusterId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${resourceGroupId(subscriptionId, resourceGroup)}/providers/Microsoft.ContainerService/managedClusters/${name}`;
}

/**
 * A role assignment's name: a name-based UUID (version 5 layout, SHA-1) of scope, role definition and
 * principal, compared case-insensitively as ARM compares ids.
 */
export function roleAssignmentName(scope: string, roleDefinitionId: string, principalId: string): string {
  const role = roleDefinitionId.split('/').pop() ?? roleDefinitionId;
  const key = [scope.replace(/\/+$/, ''), role, principalId].map((s) => s.toLowerCase()).join('|');
  const bytes = createHash('sha1').update(`archetype-deploy:${key}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
