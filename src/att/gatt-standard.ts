/**
 * The standard .gatt imports (src/att/gatt/*.gatt), embedded so the compiler stays a pure function.
 * test/unit/att/gatt-standard.test.ts checks each string equals its file.
 */

export const GATT_STANDARD_IMPORTS: Readonly<Record<string, string>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, string>, {
    'gap.gatt':
      "// Generic Access Profile (GAP) service 0x1800 (bthost's standard import, BTstack .gatt syntax)\n" +
      '// Device Name 0x2A00 is DYNAMIC: the app (or the ATT server) answers reads with the current name.\n' +
      'PRIMARY_SERVICE, GAP_SERVICE\n' +
      'CHARACTERISTIC, GAP_DEVICE_NAME, READ | DYNAMIC,\n' +
      'CHARACTERISTIC, GAP_APPEARANCE, READ, 00 00\n',
    'gatt.gatt':
      "// Generic Attribute Profile (GATT) service 0x1801 (bthost's standard import, BTstack .gatt syntax)\n" +
      '// The compiler fills the Database Hash 0x2B2A value in.\n' +
      'PRIMARY_SERVICE, GATT_SERVICE\n' +
      'CHARACTERISTIC, GATT_DATABASE_HASH, READ,\n',
    'gatt_service.gatt':
      '// Generic Attribute Profile service 0x1801 with every GATT characteristic the app serves itself\n' +
      "// (bthost's standard import, BTstack .gatt syntax)\n" +
      'PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_GENERIC_ATTRIBUTE\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_GATT_SERVICE_CHANGED, DYNAMIC | INDICATE,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_CLIENT_SUPPORTED_FEATURES, DYNAMIC | READ | WRITE,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_DATABASE_HASH, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_SERVER_SUPPORTED_FEATURES, DYNAMIC | READ,\n',
    'battery_service.gatt':
      "// Battery Service 0x180F (bthost's standard import, BTstack .gatt syntax)\n" +
      '// Battery Level 0x2A19: read and notify, value from the app.\n' +
      'PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_BATTERY_SERVICE\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_BATTERY_LEVEL, DYNAMIC | READ | NOTIFY,\n',
    'device_information_service.gatt':
      "// Device Information Service 0x180A (bthost's standard import, BTstack .gatt syntax)\n" +
      '// Every characteristic is read-only with its value from the app.\n' +
      'PRIMARY_SERVICE, ORG_BLUETOOTH_SERVICE_DEVICE_INFORMATION\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_MANUFACTURER_NAME_STRING, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_MODEL_NUMBER_STRING, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_SERIAL_NUMBER_STRING, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_HARDWARE_REVISION_STRING, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_FIRMWARE_REVISION_STRING, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_SOFTWARE_REVISION_STRING, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_SYSTEM_ID, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_IEEE_11073_20601_REGULATORY_CERTIFICATION_DATA_LIST, DYNAMIC | READ,\n' +
      'CHARACTERISTIC, ORG_BLUETOOTH_CHARACTERISTIC_PNP_ID, DYNAMIC | READ,\n',
  }),
);
