// profile_data generated from examples/att-server.gatt by bthost's .gatt compiler (BTstack compile_gatt.py layout).
// It needs to be regenerated when the .gatt file is updated.
//
// att db format version 1
// binary attribute representation:
// - size in bytes (16), flags(16), handle (16), uuid (16/128), value(...)

export const profile_data: Uint8Array = new Uint8Array([
    // ATT DB Version
    0x01,
    //  att-server's GATT database (BTstack .gatt syntax): only the GAP service with the device name.
    //  Compiled into examples/att-server-gatt.ts by
    //    npx bthost gatt compile examples/att-server.gatt -o examples/att-server-gatt.ts
    // 0x0001 PRIMARY_SERVICE-GAP_SERVICE
    0x0a, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00, 0x28, 0x00, 0x18,
    // 0x0002 CHARACTERISTIC-GAP_DEVICE_NAME-READ
    0x0d, 0x00, 0x02, 0x00, 0x02, 0x00, 0x03, 0x28, 0x02, 0x03, 0x00, 0x00, 0x2a,
    // 0x0003 VALUE-GAP_DEVICE_NAME-READ-'bthost ATT server'
    0x19, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x2a, 0x62, 0x74, 0x68, 0x6f, 0x73, 0x74, 0x20, 0x41, 0x54, 0x54, 0x20, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72,
    // END
    0x00, 0x00,
]); // total size 51 bytes

//
// list service handle ranges
//
export const ATT_SERVICE_GAP_SERVICE_START_HANDLE = 0x0001;
export const ATT_SERVICE_GAP_SERVICE_END_HANDLE = 0x0003;

//
// list mapping between characteristics and handles
//
export const ATT_CHARACTERISTIC_GAP_DEVICE_NAME_01_VALUE_HANDLE = 0x0003;
