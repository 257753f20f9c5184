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
  splitting: false,
});
