// `sensors -j`: { "<chip>": { "Adapter": "…", "<label>": { "temp1_input": 36.85, "temp1_max": … } } }.
// Only each feature's reading is kept; limits, alarms and hysteresis are settings, not readings.
import { isJsonObject, type JsonObject } from './lenient-json.js';
import { kindOfName, type SensorReadings } from './readings.js';

const READING = /^(?:temp|fan|in|curr|power)\d+_input$/;
// Chips that only average (amdgpu PPT, some pmbus) have power1_average and no power1_input.
const AVERAGE_READING = /^power\d+_average$/;

export function readSensorsJson(doc: JsonObject, readings: SensorReadings, warnings: string[]): void {
  for (const [chipName, chip] of doc.entries) {
    if (!isJsonObject(chip)) {
      warnings.push(`chip ${JSON.stringify(chipName)} is not an object; skipped`);
      continue;
    }
    for (const [label, feature] of chip.entries) {
      if (label === 'Adapter') continue;
      if (!isJsonObject(feature)) {
        warnings.push(`${chipName} ${JSON.stringify(label)}: not an object of subfeatures; skipped`);
        continue;
      }
      readFeature(chipName, label, feature, readings, warnings);
    }
  }
}

function readFeature(chipName: string, label: string, feature: JsonObject, readings: SensorReadings, warnings: string[]): void {
  const reading = feature.entries.find(([k]) => READING.test(k)) ?? feature.entries.find(([k]) => AVERAGE_READING.test(k));
  if (reading === undefined) {
    // Only limits left (the input could not be read and lm-sensors printed an error instead):
    // the feature still exists, so it still takes its name.
    const kind = feature.entries.map(([k]) => kindOfName(k)).find((k) => k !== undefined) ?? kindOfName(label);
    if (kind !== undefined) readings.add(chipName, kind, label, undefined);
    else if (feature.entries.length > 0) warnings.push(`${chipName} ${JSON.stringify(label)}: no reading of a known kind; skipped`);
    return;
  }
  const [key, value] = reading;
  const kind = kindOfName(key)!;
  if (typeof value === 'number') readings.add(chipName, kind, label, value);
  else {
    // null is a repaired nan, already reported by the JSON reader.
    if (value !== null) warnings.push(`${chipName} ${label} ${key}: ${JSON.stringify(value)} is not a number; left out`);
    readings.add(chipName, kind, label, undefined);
  }
}
