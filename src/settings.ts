// The entry the rest of the action imports settings from: the inputs are read by concern in settings/.
export * from './settings/index.js';
