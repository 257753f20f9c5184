/**
 * The steps of the power-on init sequence (hci-init.ts), their names for log lines, and the
 * answers power-on depends on.
 */

export enum Step {
  RESET,
  READ_LOCAL_VERSION,
  CHIPSET_BAUDRATE,
  CHIPSET_INIT,
  CHIPSET_RESTART_WAIT,
  CHIPSET_RESTART_RESET,
  CHIPSET_RESTART_BAUDRATE,
  CHIPSET_RESTART_READ_LOCAL_VERSION,
  CHIPSET_BD_ADDR,
  READ_SUPPORTED_COMMANDS,
  READ_FEATURES,
  READ_EXTENDED_FEATURES,
  READ_BD_ADDR,
  READ_BUFFER_SIZE,
  LE_READ_BUFFER_SIZE,
  HOST_BUFFER_SIZE,
  SET_CONTROLLER_TO_HOST_FLOW_CONTROL,
  SET_EVENT_MASK,
  LE_SET_EVENT_MASK,
  WRITE_SIMPLE_PAIRING_MODE,
  WRITE_SECURE_CONNECTIONS_HOST,
  WRITE_INQUIRY_MODE,
  WRITE_CLASS_OF_DEVICE,
  WRITE_LOCAL_NAME,
  WRITE_EIR,
  WRITE_LE_HOST_SUPPORTED,
  WRITE_SCAN_ENABLE,
  DONE,
}

/**
 * The answers power-on depends on, by step: length of the return parameters (status included)
 * a success must have (Core Vol 4 Part E 7.3.2, 7.4.1-7.4.6, 7.8.2).
 */
export const REQUIRED_ANSWERS: ReadonlyMap<Step, number> = new Map([
  [Step.RESET, 1],
  [Step.CHIPSET_RESTART_RESET, 1],
  [Step.READ_LOCAL_VERSION, 9],
  [Step.CHIPSET_RESTART_READ_LOCAL_VERSION, 9],
  [Step.READ_SUPPORTED_COMMANDS, 65],
  [Step.READ_FEATURES, 9],
  [Step.READ_BD_ADDR, 7],
  [Step.READ_BUFFER_SIZE, 8],
  [Step.LE_READ_BUFFER_SIZE, 4],
]);

/** 0x0c03 */
export const op4 = (opcode: number): string => `0x${opcode.toString(16).padStart(4, '0')}`;

export function stepName(step: Step): string {
  return (
    [
      'Reset',
      'Read Local Version',
      'chipset baud rate',
      'chipset init',
      'chipset restart wait',
      'Reset after the chipset restart',
      'chipset baud rate after the restart',
      'Read Local Version after the restart',
      'chipset BD_ADDR',
      'Read Local Supported Commands',
      'Read Local Supported Features',
      'Read Local Extended Features',
      'Read BD_ADDR',
      'Read Buffer Size',
      'LE Read Buffer Size',
      'Host Buffer Size',
      'Set Controller To Host Flow Control',
      'Set Event Mask',
      'LE Set Event Mask',
      'Write Simple Pairing Mode',
      'Write Secure Connections Host Support',
      'Write Inquiry Mode',
      'Write Class of Device',
      'Write Local Name',
      'Write Extended Inquiry Response',
      'Write LE Host Supported',
      'Write Scan Enable',
      'done',
    ][step] ?? String(step)
  );
}
