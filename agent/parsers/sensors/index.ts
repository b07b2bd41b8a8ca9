// `parseSensors`: lm-sensors output in, catalog metrics out (temp.*, fan.*, volt.*, current.*,
// power.hwmon.*, named as the hwmon collector names the same inputs). Reads `sensors -j` JSON,
// repairing what lm-sensors breaks, and the plain `sensors` text; the form is told from the text.
import type { ParsedToolOutput } from '../types.js';
import { readSensorsJson } from './json.js';
import { isJsonObject, parseLenientJson } from './lenient-json.js';
import { SensorReadings } from './readings.js';
import { readSensorsText } from './text.js';

export type SensorsOutput = ParsedToolOutput<'sensors'>;
export type SensorsFormat = 'json' | 'text';

const EXPECTED = 'expected `sensors -j` JSON or plain `sensors` text (a chip name, `Adapter: …`, then `label: value unit` lines)';

/** Thrown for text that is not lm-sensors output; the message says what was expected. */
export class NotSensorsOutputError extends Error {
  constructor(detail: string) {
    super(`not sensors output: ${detail}; ${EXPECTED}`);
    this.name = 'NotSensorsOutputError';
  }
}

// What `sensors` prints, as its whole output, on a machine with no supported chip.
const NO_SENSORS = /^No sensors found!/m;

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '' && !/^\s*ERROR:/.test(l))?.trim() ?? '';
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}

function output(format: SensorsFormat, metrics: Record<string, number>, warnings: string[]): SensorsOutput {
  // One point in time; neither form carries a timestamp.
  return { tool: 'sensors', format, samples: [{ t: null, m: metrics }], warnings };
}

export function parseSensors(text: string): SensorsOutput {
  const warnings: string[] = [];
  const readings = new SensorReadings(warnings);
  // Error lines from stderr may come first when both streams were captured together.
  if (firstLine(text).startsWith('{')) {
    const parsed = parseLenientJson(text);
    warnings.push(...parsed.warnings);
    if (!isJsonObject(parsed.value)) throw new NotSensorsOutputError(`JSON without a top-level object (${firstLine(text)})`);
    readSensorsJson(parsed.value, readings, warnings);
    return output('json', readings.metrics, warnings);
  }
  const shape = readSensorsText(text, readings, warnings);
  if (shape.adapters === 0 && shape.readings === 0) {
    if (NO_SENSORS.test(text)) return output('text', {}, ['sensors found no chips']);
    const start = firstLine(text);
    throw new NotSensorsOutputError(start === '' ? 'the text is empty' : `the text starts with ${JSON.stringify(start)}`);
  }
  return output('text', readings.metrics, warnings);
}
