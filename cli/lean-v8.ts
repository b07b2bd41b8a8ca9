// Imported first by the standalone agent, so it runs before anything else is evaluated.
// The agent does a few milliseconds of work a second: V8's interpreter and baseline compiler
// are plenty, and its optimising compiler (TurboFan) costs ~5 MiB of RSS for compiler zones
// and optimised code on a board where every MiB is the model's. Measured with the bundled
// agent at 1 Hz on x86: 53.4 MiB vs 58.8 MiB RSS, the same CPU within noise (`npm run bench`).
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-opt');
