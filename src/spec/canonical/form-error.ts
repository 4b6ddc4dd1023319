// Thrown by the short-form parsers; the loader attaches the file position of the value.
import type { Key } from '../tree.js';

export class FormError extends Error {
  constructor(readonly expected: string, readonly found: string, readonly note?: string, readonly subPath: readonly Key[] = []) {
    super(`expected ${expected}, found ${found}`);
  }
}
