/** The edgewatch release; a test keeps it equal to package.json's version. */
export const EDGEWATCH_VERSION = '0.1.0';
