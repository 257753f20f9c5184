/**
 * The steps of the power-on init sequence (hci-init.ts), their names for log lines, the answers
 * power-on depends on, and the command, feature and event-mask bits the sequence uses.
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

/** Bit numbers in the Supported_Commands bitmap (Core Vol 4, Part E, 6.27): octet * 8 + bit. */
export const SUPPORTED_COMMAND = {
  WRITE_LOCAL_NAME: 56,
  WRITE_SCAN_ENABLE: 63,
  WRITE_CLASS_OF_DEVICE: 73,
  WRITE_INQUIRY_MODE: 103,
  READ_LOCAL_EXTENDED_FEATURES: 118,
  SET_CONTROLLER_TO_HOST_FLOW_CONTROL: 85,
  HOST_BUFFER_SIZE: 86,
  READ_BUFFER_SIZE: 119,
  READ_BD_ADDR: 121,
  WRITE_EXTENDED_INQUIRY_RESPONSE: 137,
  WRITE_SIMPLE_PAIRING_MODE: 142,
  WRITE_LE_HOST_SUPPORTED: 198,
  LE_SET_EVENT_MASK: 200,
  LE_READ_BUFFER_SIZE: 201,
  WRITE_SECURE_CONNECTIONS_HOST_SUPPORT: 259,
} as const;

/** LMP feature bits, page 0 (Core Vol 2, Part C, 3.3): byte * 8 + bit. */
export const LMP_FEATURE = {
  RSSI_WITH_INQUIRY_RESULTS: 30,
  BR_EDR_NOT_SUPPORTED: 37,
  LE_SUPPORTED_CONTROLLER: 38,
  EXTENDED_INQUIRY_RESPONSE: 48,
  SECURE_SIMPLE_PAIRING: 51,
  EXTENDED_FEATURES: 63,
} as const;

/** Event mask: every BR/EDR event plus LE Meta (bit 61). */
export const HCI_EVENT_MASK_LOW = 0xffffffff;
export const HCI_EVENT_MASK_HIGH = 0x3fffffff;
/**
 * LE event mask as BTstack's hci.c (0x809FF: bits 0-8, 11, 19): Connection Complete, Advertising
 * Report, Connection Update Complete, Read Remote Features Complete, Long Term Key Request, Remote
 * Connection Parameter Request (answered by gap-le-conn.ts within the accepted range), Data Length
 * Change, Read Local P-256 Public Key Complete, Generate DHKey Complete, PHY Update Complete,
 * Channel Selection Algorithm. Enhanced Connection Complete (bit 9) stays off.
 */
export const HCI_LE_EVENT_MASK_LOW = 0x000809ff;
export const HCI_LE_EVENT_MASK_HIGH = 0;

/** Inquiry_Mode values. */
export const INQUIRY_MODE_STANDARD = 0;
export const INQUIRY_MODE_RSSI = 1;
export const INQUIRY_MODE_RSSI_AND_EIR = 2;
