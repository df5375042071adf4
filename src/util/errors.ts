/** Errors shared by every layer: a UsageError is bad input from the user (exit code 2, no stack trace). */

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
