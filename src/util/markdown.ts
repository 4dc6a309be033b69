import { redact } from './secrets.js';

// Text that reaches Markdown (job summary, pull request comment) may come from a pull request: its pod
// logs, its app's answers, its manifests. It is shown literally, never rendered: no HTML, no links, no images.

/**
 * One line of text as Markdown shows it literally, secrets masked: HTML escaped, and the Markdown that
 * makes emphasis, code, links and images, or table cells ( \ ` * _ [ ] | ~ ). Newlines become spaces, so
 * nothing can start a heading or a list.
 */
export function mdText(value: string): string {
  return redact(value)
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/[\r\n]+/g, ' ');
}

/** Text for HTML (table cells, <pre>): HTML escaped, secrets masked. */
export function htmlText(value: string): string {
  return redact(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Lines shown as a preformatted block: inside <pre>, Markdown is not parsed and HTML is escaped. */
export function preBlock(lines: string[]): string {
  return `<pre>${htmlText(lines.join('\n'))}</pre>`;
}
