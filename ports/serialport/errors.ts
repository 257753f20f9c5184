/**
 * Turn the errors `serialport` (bindings-cpp) reports into messages a user can act on.
 * The native binding gives no error codes, only strerror text such as
 * "Error: No such file or directory, cannot open /dev/ttyUSB0" or
 * "Error Resource temporarily unavailable Cannot lock port".
 */

export type SerialOpenErrorKind = 'not-found' | 'busy' | 'permission' | 'not-a-tty' | 'other';

export interface SerialOpenError {
  kind: SerialOpenErrorKind;
  message: string;
}

function textOf(err: unknown): string {
  if (err instanceof Error)
    return `${err.message}${(err as { code?: string }).code ? ` (${(err as { code?: string }).code})` : ''}`;
  return String(err);
}

/** Classify an open failure and phrase it for the user. */
export function describe_open_error(path: string, err: unknown): SerialOpenError {
  const raw = textOf(err);
  const t = raw.toLowerCase();
  if (t.includes('no such file') || t.includes('enoent') || t.includes('no such device')) {
    return {
      kind: 'not-found',
      message: `serial port ${path} not found: is the controller plugged in and the path right? (try ls /dev/ttyACM* /dev/ttyUSB*)`,
    };
  }
  if (
    t.includes('cannot lock port') ||
    t.includes('resource temporarily unavailable') ||
    t.includes('device or resource busy') ||
    t.includes('ebusy')
  ) {
    return {
      kind: 'busy',
      message: `serial port ${path} is busy: another program has it open (a terminal, ModemManager, another bthost); close it and retry`,
    };
  }
  if (t.includes('permission denied') || t.includes('eacces') || t.includes('operation not permitted')) {
    return {
      kind: 'permission',
      message: `permission denied opening serial port ${path}: add your user to the 'dialout' group (sudo usermod -aG dialout $USER) and log in again`,
    };
  }
  if (t.includes('inappropriate ioctl') || t.includes('not a typewriter') || t.includes('is a directory')) {
    return { kind: 'not-a-tty', message: `${path} is not a serial port (${raw.replace(/^Error:?\s*/, '')})` };
  }
  return { kind: 'other', message: `cannot open serial port ${path}: ${raw.replace(/^Error:?\s*/, '')}` };
}
