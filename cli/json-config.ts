// Config files of the agent and the hub: JSON checked against a zod schema. Errors name the file
// and each offending key with what is wrong, never a value (a password or token stays out of
// terminals and journals).
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** Reads `file` (which must exist) and returns what `schema` makes of it, or throws saying what to fix. */
export function readJsonConfig<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
    throw new Error(`config file ${file} is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}
