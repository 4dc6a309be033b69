import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What the restricted Pod Security Standard asks of a pod and its containers: production's namespace
 * (rbac/production.yaml) enforces it, as every preview's does.
 */
export const restrictedPod = {
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 10001,
    runAsGroup: 10001,
    seccompProfile: { type: 'RuntimeDefault' },
  },
} as const;
export const restrictedContainer = {
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
} as const;

/** A build context that builds in a second: one file FROM scratch, `text` making its image its own. */
export function scratchContext(text: string): string {
  return manifestDir({ 'hello.txt': `${text}\n`, Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\n' });
}

/** A manifests folder in a temp dir with the given files. */
export function manifestDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'manifests-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: archetype
  labels:
    app.kubernetes.io/name: archetype
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: archetype
  template:
    metadata:
      labels:
        app.kubernetes.io/name: archetype
    spec:
      containers:
        - name: archetype
          image: archetype
          ports:
            - name: http
              containerPort: 8000
`;

export const service = `apiVersion: v1
kind: Service
metadata:
  name: archetype
spec:
  selector:
    app.kubernetes.io/name: archetype
  ports:
    - name: http
      port: 80
      targetPort: http
`;

export const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: archetype
spec:
  ingressClassName: webapprouting.kubernetes.azure.com
  rules:
    - host: archetype.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: archetype
                port:
                  number: 80
`;
