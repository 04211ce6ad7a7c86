export * from './findings';
export * from './policy';
export * from './parse';
export * from './validate';
export * from './merge';
export * from './check';
export * from './types';
