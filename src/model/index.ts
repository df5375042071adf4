export * from './types';
export * from './builders';
export * from './graph';
export * from './params';
export * from './summary';
export * from './initializers';
export * from './shapes';
export * from './model-args';
