export * from './bounds';
export * from './capabilities';
export * from './configs';
export * from './emit';
export * from './report';
export * from './repro';
export * from './shrink';
export * from './sweep';
