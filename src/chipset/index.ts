export * from './chipset.js';
export * from './zephyr.js';
export * from './bcm.js';
export * from './detect.js';
export * from './bcm-hcd.js';
export * from './realtek.js';
export * from './realtek-fw.js';
