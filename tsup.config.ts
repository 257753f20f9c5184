import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'codes-v1.4': 'src/codes/v1.4.ts',
    'codes-v1.8': 'src/codes/v1.8.ts',
    serialport: 'ports/serialport/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // ESM: code splitting on (tsup's default), so the cli's lazy import() of the serial port stays a
  // separate chunk and virtual runs never load serialport's native binding; the entries share one
  // copy of the stack. CJS: tsup's default (no splitting; esbuild keeps lazy require()s lazy).
});
