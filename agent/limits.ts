/** The shortest sampling interval: `watch -n 0.5` is what people use today. */
export const MIN_INTERVAL_MS = 500;
