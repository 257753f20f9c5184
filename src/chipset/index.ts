export * from './chipset.js';
export * from './zephyr.js';
export * from './bcm.js';
