// API reference: `npm run docs` writes HTML to docs/api/ from the doc comments of the public
// entry points (bthost, bthost/serialport, bthost/virtual, bthost/port, bthost/v1.4, bthost/v1.8). docs/api/ is generated,
// not committed.
import { OptionDefaults } from 'typedoc';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'bthost API reference',
  entryPoints: [
    'src/index.ts',
    'ports/serialport/index.ts',
    'ports/virtual/index.ts',
    'ports/port.ts',
    'src/codes/v1.4.ts',
    'src/codes/v1.8.ts',
  ],
  out: 'docs/api',
  tsconfig: 'tsconfig.json',
  readme: 'none',
  excludePrivate: true,
  excludeProtected: true,
  excludeInternal: true,
  hideGenerator: true,
  // no git remote to link to: 'Defined in' lines would be broken links
  disableSources: true,
  sort: ['source-order'],
  // BTstack's event format strings are quoted in the codes' comments as "@format `...`"
  blockTags: [...OptionDefaults.blockTags, '@format'],
  validation: { notExported: false, invalidLink: true, notDocumented: false },
};
