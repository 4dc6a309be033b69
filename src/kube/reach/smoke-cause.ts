import { smokeCheckAnnotation, smokePathAnnotation } from '../../names.js';
import { selectorString } from '../manifests/selector.js';

// What one smoke request saw, told apart (pure), and the fix for the last thing seen when the check fails.
// Through the API server's service proxy (k8s.io/apiserver's UpgradeAwareHandler): the API server answers
// 503 "no endpoints available for service" itself when no ready pod backs the Service, and 503 "error
// trying to reach service: <dial error>" when it cannot reach the endpoint it picked (nothing listens on the
// targetPort — connection refused —, a NetworkPolicy, or a node that runs no containers); any other status
// is the pod's own answer, passed through.

export type Seen =
  | { kind: 'revision'; revision: string }
  | { kind: 'no endpoints' }
  | { kind: 'unreachable'; refused: boolean }
  | { kind: 'not found' }
  | { kind: 'no service' }
  | { kind: 'forbidden'; detail: string }
  | { kind: 'status'; status: number }
  | { kind: 'no answer'; detail: string };

/** What a failed request saw, from the status and message of the API server's (or the pod's) answer. */
export function seenOf(answer: { status?: number; reason?: string; message: string }): Seen {
  const { status, reason, message } = answer;
  if (status === undefined) return { kind: 'no answer', detail: message };
  if (status === 503 && /no endpoints available for service/i.test(message)) return { kind: 'no endpoints' };
  if (status >= 500 && /error trying to reach service/i.test(message))
    return { kind: 'unreachable', refused: /connection refused/i.test(message) };
  if (status === 404 && reason === 'NotFound' && /^services? "[^"]*" not found$/.test(message))
    return { kind: 'no service' };
  if (status === 404) return { kind: 'not found' };
  if (status === 403 && reason === 'Forbidden' && /services\/proxy/.test(message))
    return { kind: 'forbidden', detail: message };
  return { kind: 'status', status };
}

/** A short label for the tally of answers. */
export function labelOf(seen: Seen): string {
  switch (seen.kind) {
    case 'revision':
      return `revision ${seen.revision}`;
    case 'status':
      return String(seen.status);
    case 'not found':
      return '404';
    case 'no endpoints':
      return '503 no endpoints';
    case 'unreachable':
      return seen.refused ? '503 connection refused' : '503 unreachable';
    case 'forbidden':
      return '403 forbidden';
    default:
      return seen.kind;
  }
}

export interface CheckContext {
  service: string;
  namespace: string;
  path: string;
  pathFrom: 'input' | 'annotation';
  port: number | string;
  targetPort?: number | string;
  selector?: Record<string, string>;
  expectedRevision: string;
}

const selectorText = (selector: Record<string, string> | undefined) =>
  selectorString({ matchLabels: selector });

/** The sentence that says what to fix, for what the last request saw. */
export function adviceFor(seen: Seen, c: CheckContext): string {
  const target = c.targetPort ?? c.port;
  const offAnnotation = `annotation ${smokeCheckAnnotation}: "false"`;
  switch (seen.kind) {
    case 'revision':
      return `Pods answering ${c.path} run revision ${seen.revision}, not ${c.expectedRevision}: build the image with --build-arg REVISION=<commit> (the action passes it; the Dockerfile must declare ARG REVISION and hand it to the app), and check that Service/${c.service}'s selector${c.selector ? ` ${selectorText(c.selector)}` : ''} selects only this release's pods.`;
    case 'not found':
      return c.pathFrom === 'annotation'
        ? `The app has no ${c.path}: fix the Service's annotation ${smokePathAnnotation} (${c.path}) to a path it serves, e.g. /healthz.`
        : `The app has no ${c.path}: set input smoke-path to a path it serves (e.g. smoke-path: /healthz), or annotate Service/${c.service} with ${smokePathAnnotation}: /healthz for this Service only.`;
    case 'no endpoints':
      return `No ready pod backs Service/${c.service}: its selector ${selectorText(c.selector) || '(none)'} matches no ready pod in namespace '${c.namespace}'; check the selector against the pod template's labels and the pods' readiness.`;
    case 'unreachable':
      return seen.refused
        ? `Nothing listens on targetPort ${target} (port ${c.port}) in the pods of Service/${c.service}: check that targetPort is the app's containerPort (or its name) and that the app listens on all addresses (0.0.0.0, not 127.0.0.1).`
        : `The API server could not reach the pods of Service/${c.service} (targetPort ${target}, port ${c.port}): a NetworkPolicy that drops traffic from the control plane, or nodes that run no containers (kwok, simulated nodes), whose pods answer nothing. Allow the traffic, or turn the check off for this Service (its ${offAnnotation}; input smoke-check: false for all).`;
    case 'no service':
      return `Service/${c.service} does not exist in namespace '${c.namespace}'.`;
    case 'forbidden':
      return `The deploying identity may not GET services/proxy in namespace '${c.namespace}': grant it as rbac/deployer.yaml does, or turn the check off (input smoke-check: false).`;
    case 'status':
      return seen.status >= 500
        ? `The app answered ${seen.status} to GET ${c.path} on targetPort ${target} (port ${c.port}): see its logs (kubectl logs -n ${c.namespace} -l ${selectorText(c.selector) || '<selector>'}).`
        : `The app answered ${seen.status} to GET ${c.path}: the smoke check needs a 2xx; set input smoke-path (or the Service's annotation ${smokePathAnnotation}) to a path that answers 2xx without credentials.`;
    case 'no answer':
      return `No answer came back in time from targetPort ${target} (port ${c.port}): check that the app answers GET ${c.path} promptly, and its logs.`;
  }
}
