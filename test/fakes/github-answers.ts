// The answers of the GitHub stand-in's settings routes, as GitHub's REST API gives them: a body, the
// {"message", "documentation_url"} errors with their status, and pages with a Link rel="next" header.

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const docs = 'https://docs.github.com/rest';

export function ok(body: unknown): Answer {
  return { status: 200, body };
}

export function notFound(): Answer {
  return { status: 404, body: { message: 'Not Found', documentation_url: docs } };
}

export function mustBeAdmin(): Answer {
  return { status: 403, body: { message: 'Must have admin rights to Repository.', documentation_url: docs } };
}

export function invalid(field: string, code: string): Answer {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [{ resource: 'Request', field, code }],
      documentation_url: docs,
    },
  };
}

/** One page of items (per_page / page, with a Link rel="next" header), shaped by wrap. */
export function paged<T>(
  url: URL,
  items: T[],
  perDefault: number,
  perMax: number,
  wrap: (items: T[]) => unknown,
): Answer {
  const perPage = Math.min(Number(url.searchParams.get('per_page') ?? perDefault) || perDefault, perMax);
  const page = Math.max(Number(url.searchParams.get('page') ?? 1) || 1, 1);
  const headers: Record<string, string> = {};
  if (page * perPage < items.length) {
    const next = new URL(url.toString());
    next.searchParams.set('page', String(page + 1));
    headers.link = `<${next.toString()}>; rel="next"`;
  }
  return { status: 200, body: wrap(items.slice((page - 1) * perPage, page * perPage)), headers };
}

/** GitHub's answer for a feature a private repository on GitHub Free lacks (rulesets, environments). */
export function upgradeRequired(): Answer {
  return {
    status: 403,
    body: {
      message: 'Upgrade to GitHub Pro or make this repository public to enable this feature.',
      documentation_url: docs,
    },
  };
}
