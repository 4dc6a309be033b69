import { htmlText, mdText, preBlock } from '../../src/util/markdown.js';
import { maskSecret } from '../../src/util/secrets.js';

// What reaches the job summary and the pull request comment is shown, never rendered.

describe('text written as Markdown or HTML', () => {
  it('shows HTML, links, images and table pipes literally', () => {
    expect(mdText('<img src=x> ![a](http://e/p.png) [l](http://e) | **b**')).toBe(
      '&#60;img src=x&#62; !\\[a\\](http://e/p.png) \\[l\\](http://e) \\| \\*\\*b\\*\\*',
    );
    expect(mdText('two\nlines')).toBe('two lines');
  });

  it('keeps log lines in a <pre> block, escaped', () => {
    expect(preBlock(['<script>alert(1)</script>', '```'])).toBe(
      '<pre>&#60;script&#62;alert(1)&#60;/script&#62;\n```</pre>',
    );
  });

  it('masks registered secrets where the runner does not (the summary)', () => {
    const out = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      maskSecret('s3cr3t-token-value');
    } finally {
      process.stdout.write = out;
    }
    expect(htmlText('token=s3cr3t-token-value')).toBe('token=***');
    expect(mdText('token=s3cr3t-token-value')).toBe('token=\\*\\*\\*');
  });
});
