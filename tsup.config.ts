import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'ports/cli/cli.ts',
    'codes-v1.4': 'src/codes/v1.4.ts',
    'codes-v1.8': 'src/codes/v1.8.ts',
    serialport: 'ports/serialport/index.ts',
    virtual: 'ports/virtual/index.ts',
    port: 'ports/port.ts',
  },
  format: ['esm', 'cjs'],
  // the published declarations are the API: members tagged @internal are left out (the API report,
  // docs/api-report/, is made from these files by `npm run api`)
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // ESM: code splitting on (tsup's default), so the cli's lazy import() of the serial port stays a
  // separate chunk and virtual runs never load serialport's native binding; the entries share one
  // copy of the stack. CJS: tsup's default (no splitting; esbuild keeps lazy require()s lazy).
});
