import * as core from '@actions/core';
import { parseDuration } from '../util/duration.js';

/** Reads inputs the way the runner passes them (INPUT_* variables). */
export type InputReader = {
  get(name: string): string;
  getBoolean(name: string): boolean;
};

export const actionsInputs: InputReader = {
  get: (name) => core.getInput(name),
  getBoolean: (name) => core.getBooleanInput(name),
};

/**
 * The inputs as the readers of settings/ see them: each read that finds a bad value notes the input and the
 * fix and goes on with a stand-in, so that one run names every bad input at once (`throwIfInvalid`).
 */
export class Inputs {
  private readonly errors: string[] = [];

  constructor(private readonly reader: InputReader) {}

  fail(name: string, message: string): void {
    this.errors.push(`input '${name}': ${message}`);
  }

  /** the value as given (a secret or a kubeconfig keeps its spaces) */
  raw(name: string): string {
    return this.reader.get(name);
  }

  text(name: string): string {
    return this.reader.get(name).trim();
  }

  bool(name: string): boolean {
    try {
      return this.reader.getBoolean(name);
    } catch {
      this.fail(name, `'${this.reader.get(name)}' is not a boolean; use true or false`);
      return false;
    }
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.text(name) as T;
    if (!allowed.includes(value)) this.fail(name, `'${value}' is not one of ${allowed.join(', ')}`);
    return value;
  }

  /** milliseconds; 0 (and an error) when the text is no positive duration */
  duration(name: string): number {
    const value = this.text(name);
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0)
      this.fail(name, `'${value}' is not a duration; use e.g. 90s, 5m, 2h or 7d`);
    return ms ?? 0;
  }

  /** a whole number from `min` to `max` */
  count(name: string, min: number, max: number): number {
    const value = this.text(name);
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      this.fail(name, `'${value}' must be a whole number from ${min} to ${max}`);
    return n;
  }

  /** comma- or newline-separated values, trimmed, empty ones dropped */
  list(name: string, separator: RegExp | string): string[] {
    return this.reader
      .get(name)
      .split(separator)
      .map((v) => v.trim())
      .filter(Boolean);
  }

  /** one KEY=VALUE per line, each key matching `key`; `shape` names the form in the error */
  keyValues(name: string, key: RegExp, shape: string): Record<string, string> {
    const values: Record<string, string> = {};
    for (const [i, raw] of this.reader.get(name).split('\n').entries()) {
      const line = raw.trim();
      if (!line) continue;
      const eq = line.indexOf('=');
      if (eq <= 0 || !key.test(line.slice(0, eq)) || eq === line.length - 1)
        this.fail(name, `line ${i + 1} '${line}' is not ${shape}`);
      else values[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return values;
  }

  /** Every bad input in one error, in the order they were read. */
  throwIfInvalid(): void {
    if (this.errors.length > 0) throw new Error(`Invalid inputs:\n- ${this.errors.join('\n- ')}`);
  }
}

export const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
