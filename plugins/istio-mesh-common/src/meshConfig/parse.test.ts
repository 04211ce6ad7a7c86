import { MESH_CONFIG_LIMITS, parseMeshConfigYaml } from './parse';

const errorsOf = (yaml: string) => parseMeshConfigYaml(yaml).errors;

describe('parseMeshConfigYaml', () => {
  it('parses a mapping and records where each key is', () => {
    const r = parseMeshConfigYaml('accessLogFile: /dev/stdout\ndefaultConfig:\n  concurrency: 2\ndiscoverySelectors:\n  - matchLabels:\n      app.kubernetes.io/part-of: shop\n');
    expect(r.errors).toEqual([]);
    expect(r.value).toEqual({
      accessLogFile: '/dev/stdout',
      defaultConfig: { concurrency: 2 },
      discoverySelectors: [{ matchLabels: { 'app.kubernetes.io/part-of': 'shop' } }],
    });
    expect(r.positions.get('accessLogFile')).toEqual({ line: 1, column: 1 });
    expect(r.positions.get('defaultConfig.concurrency')).toEqual({ line: 3, column: 3 });
    expect(r.positions.get('discoverySelectors[0]')).toEqual({ line: 5, column: 5 });
    expect(r.positions.get('discoverySelectors[0].matchLabels["app.kubernetes.io/part-of"]')).toEqual({ line: 6, column: 7 });
  });

  it.each([
    ['an empty document', ''],
    ['only a comment', '# nothing shared yet\n'],
    ['an explicit null', '~\n'],
  ])('reads %s as an empty mapping', (_, yaml) => {
    expect(parseMeshConfigYaml(yaml)).toMatchObject({ value: {}, errors: [] });
  });

  it('refuses a document over the size limit before parsing it', () => {
    const yaml = `accessLogFormat: "${'x'.repeat(70_000)}"\n`;
    expect(errorsOf(yaml)).toEqual([
      { severity: 'error', path: '', message: 'The document is 70020 bytes (68.4 KiB); the limit is 65536 bytes (64 KiB).' },
    ]);
  });

  it('counts bytes, not characters, against the size limit', () => {
    const yaml = `accessLogFormat: "${'é'.repeat(33_000)}"\n`; // 33,000 characters, 66,000 bytes
    expect(yaml.length).toBeLessThan(MESH_CONFIG_LIMITS.maxBytes);
    expect(errorsOf(yaml)[0].message).toBe('The document is 66020 bytes (64.5 KiB); the limit is 65536 bytes (64 KiB).');
  });

  it('accepts a document of exactly the limit', () => {
    const prefix = 'accessLogFormat: "';
    const yaml = `${prefix}${'x'.repeat(MESH_CONFIG_LIMITS.maxBytes - prefix.length - 2)}"\n`;
    expect(new TextEncoder().encode(yaml).length).toBe(MESH_CONFIG_LIMITS.maxBytes);
    expect(parseMeshConfigYaml(yaml).errors).toEqual([]);
  });

  it('names the line of a tab used for indentation', () => {
    expect(errorsOf('defaultConfig:\n  concurrency: 2\n\tdrainDuration: 45s\n')).toEqual([
      {
        severity: 'error',
        path: '',
        message: 'Line 3: a tab is used for indentation; YAML allows only spaces for indentation (a tab inside a value is fine).',
        line: 3,
        column: 1,
      },
    ]);
  });

  it('accepts tabs inside values', () => {
    const r = parseMeshConfigYaml('accessLogFormat: "[%START_TIME%]\t%REQ(:METHOD)%"\nx: a\tb\nblock: |\n  \tindented with a tab inside the block\n');
    expect(r.errors).toEqual([]);
    expect(r.value).toEqual({ accessLogFormat: '[%START_TIME%]\t%REQ(:METHOD)%', x: 'a\tb', block: '\tindented with a tab inside the block\n' });
  });

  it('refuses duplicate keys, naming the key and where it repeats', () => {
    expect(errorsOf('accessLogFile: /dev/stdout\ndefaultConfig:\n  concurrency: 2\naccessLogFile: /dev/stderr\n')).toEqual([
      {
        severity: 'error',
        path: '',
        message: 'Line 4, column 1: the key "accessLogFile" appears more than once in the same mapping.',
        line: 4,
        column: 1,
      },
    ]);
    expect(errorsOf('defaultConfig:\n  concurrency: 2\n  concurrency: 3\n')[0].message).toBe(
      'Line 3, column 3: the key "concurrency" appears more than once in the same mapping.',
    );
  });

  it.each([
    ['a sequence', '- accessLogFile: /dev/stdout\n', 'found a sequence at line 1'],
    ['a string', 'accessLogFile\n', 'found a string ("accessLogFile") at line 1'],
    ['a number', '42\n', 'found a number (42) at line 1'],
    ['a boolean', 'true\n', 'found a boolean (true) at line 1'],
  ])('refuses %s as the root', (_, yaml, found) => {
    expect(errorsOf(yaml)).toEqual([
      expect.objectContaining({
        severity: 'error',
        path: '',
        message: `The document must be a mapping of MeshConfig fields (such as "accessLogFile: /dev/stdout"); ${found}.`,
        line: 1,
      }),
    ]);
  });

  it('refuses aliases, so an alias bomb is never expanded', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
      'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
    ].join('\n');
    const errors = errorsOf(bomb);
    expect(errors.length).toBe(20); // capped: one page of findings
    expect(errors.every(e => /^Line \d+, column \d+: aliases \(\*[a-h]\) are not allowed; write the value out in full\.$/.test(e.message))).toBe(true);
    expect(errors).toContainEqual({
      severity: 'error',
      path: 'b[0]',
      message: 'Line 2, column 8: aliases (*a) are not allowed; write the value out in full.',
      line: 2,
      column: 8,
    });
  });

  it('refuses a single alias, a self-referencing alias and an alias as a key', () => {
    expect(errorsOf('defaults: &d {concurrency: 2}\ndefaultConfig: *d\n')).toEqual([
      { severity: 'error', path: 'defaultConfig', message: 'Line 2, column 16: aliases (*d) are not allowed; write the value out in full.', line: 2, column: 16 },
    ]);
    expect(errorsOf('a: &x [*x]\n')[0].message).toBe('Line 1, column 8: aliases (*x) are not allowed; write the value out in full.');
    expect(errorsOf('k: &k accessLogFile\n*k : /dev/stdout\n')[0].message).toBe('Line 2, column 1: aliases (*k) are not allowed; write the value out in full.');
  });

  it('refuses an alias to an undefined anchor with its position', () => {
    expect(errorsOf('defaultConfig: *nope\n')[0].message).toBe('Line 1, column 16: aliases (*nope) are not allowed; write the value out in full.');
  });

  it('refuses nesting deeper than the limit, once', () => {
    const deep = (levels: number) => {
      let yaml = '';
      for (let i = 0; i < levels; i++) yaml += `${'  '.repeat(i)}l${i}:\n`;
      return `${yaml}${'  '.repeat(levels)}leaf: 1\n`;
    };
    // root mapping = level 1, so 31 nested keys make 32 levels
    expect(parseMeshConfigYaml(deep(31)).errors).toEqual([]);
    expect(errorsOf(deep(32))).toEqual([
      { severity: 'error', path: 'l0.l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11.l12.l13.l14.l15.l16.l17.l18.l19.l20.l21.l22.l23.l24.l25.l26.l27.l28.l29.l30.l31', message: 'Line 33: the document nests deeper than 32 levels.', line: 33, column: 65 },
    ]);
  });

  it('refuses deep flow nesting without running out of stack', () => {
    const yaml = `a: ${'['.repeat(30_000)}${']'.repeat(30_000)}\n`;
    const errors = errorsOf(yaml);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toEqual({ severity: 'error', path: '', message: 'Line 1: the document nests deeper than 32 levels.', line: 1, column: 1 });
  });

  it('refuses thousands of nested brackets before parsing, naming the line', () => {
    const yaml = `accessLogFile: x\ndefaultConfig:\n  tracing: ${'{a: '.repeat(300)}1${'}'.repeat(300)}\n`;
    expect(errorsOf(yaml)).toEqual([{ severity: 'error', path: '', message: 'Line 3: the document nests deeper than 32 levels.', line: 3, column: 1 }]);
  });

  it('does not count brackets inside quotes or comments', () => {
    const brackets = '['.repeat(300);
    const r = parseMeshConfigYaml(`accessLogFormat: "${brackets}"\nx: '${brackets}'\n# ${brackets}\ny: "a \\" ${brackets}"\n`);
    expect(r.errors).toEqual([]);
    expect(r.value?.accessLogFormat).toBe(brackets);
  });

  it('refuses moderately deep flow nesting through the tree walk', () => {
    const yaml = `a: ${'['.repeat(40)}${']'.repeat(40)}\n`;
    expect(errorsOf(yaml)).toEqual([
      expect.objectContaining({ message: 'Line 1: the document nests deeper than 32 levels.', line: 1 }),
    ]);
  });

  it('refuses more than one document', () => {
    expect(errorsOf('accessLogFile: /dev/stdout\n---\nenableTracing: true\n')).toEqual([
      expect.objectContaining({ message: 'Line 2: the text holds more than one YAML document (a second "---"); MeshConfig is a single document.', line: 2 }),
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    expect(errorsOf('defaultConfig:\n  concurrency: 2\n drainDuration: 45s\n')).toEqual([
      {
        severity: 'error',
        path: '',
        message: 'YAML syntax error at line 3, column 1: All mapping items must start at the same column',
        line: 3,
        column: 1,
      },
    ]);
    expect(errorsOf('discoverySelectors: [1, 2\n')[0]).toMatchObject({ line: 2, column: 1, message: expect.stringMatching(/^YAML syntax error at line 2, column 1: /) });
    expect(errorsOf('accessLogFile: "unterminated\n')[0].message).toBe('YAML syntax error at line 2, column 1: Missing closing "quote');
  });

  it('refuses custom tags and non-string keys', () => {
    expect(errorsOf('accessLogFile: !env LOG\n')).toEqual([
      expect.objectContaining({ message: 'Line 1, column 16: Unresolved tag: !env (MeshConfig uses plain YAML values, no custom tags)', line: 1, column: 16 }),
    ]);
    expect(errorsOf('? [a, b]\n: 1\n')[0].message).toBe('Line 1, column 3: keys must be strings (found a collection).');
    expect(errorsOf('defaultConfig:\n  1: x\n')[0]).toEqual({
      severity: 'error',
      path: 'defaultConfig',
      message: 'Line 2, column 3: keys must be strings (found a number (1)).',
      line: 2,
      column: 3,
    });
  });
});
